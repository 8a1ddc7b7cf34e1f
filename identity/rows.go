package identity

import (
	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/state"
)

// Rows returns the contact's current identities row and one contact_keys row per key,
// with their stored versions, and the rows of the contacts merged into it: what to write
// again when rows may have been lost (DirtyRows). Writing them twice is harmless, the
// tables keep the newest version.
func (s *Store) Rows(tenant, contactID string) ([]model.Row, error) {
	r, err := get(s.st, tenant, contactID)
	if err != nil || r == nil {
		return nil, err
	}
	rows := make([]model.Row, 0, 1+len(r.keys))
	rows = append(rows, r.row())
	for i := range r.keys {
		k := r.keyRow(&r.keys[i])
		rows = append(rows, &k)
	}
	// The contacts merged into this one: a replayed merge must re-emit their merged_into.
	err = mergedInto(s.st, tenant, contactID, 0, func(l *record) { rows = append(rows, l.row()) })
	return rows, err
}

// mergedKey is id/m/<tenant>\x00<survivor>\x00<loser>.
func mergedKey(tenant, survivor, loser string) []byte {
	return append(mergedPrefix(tenant, survivor), loser...)
}

func mergedPrefix(tenant, survivor string) []byte {
	b := append([]byte(prefix+"m/"), tenant...)
	b = append(append(b, 0), survivor...)
	return append(b, 0)
}

// mergedInto calls emit for every contact merged into survivor, directly or through a
// chain of merges (bounded: a chain deeper than 8 would be a bug).
func mergedInto(st *state.Store, tenant, survivor string, depth int, emit func(*record)) error {
	if depth > 8 {
		return nil
	}
	pfx := mergedPrefix(tenant, survivor)
	var losers []string
	if err := st.Scan(pfx, func(k, _ []byte) error {
		losers = append(losers, string(k[len(pfx):]))
		return nil
	}); err != nil {
		return err
	}
	for _, id := range losers {
		l, err := get(st, tenant, id)
		if err != nil {
			return err
		}
		if l != nil {
			emit(l)
			if err := mergedInto(st, tenant, id, depth+1, emit); err != nil {
				return err
			}
		}
	}
	return nil
}

// IdentityRows returns the current identities row of each contact in refs that has none
// in have, for a caller that must name those contacts in its rows (an import's Republish).
func (s *Store) IdentityRows(refs []ContactRef, have []model.Row) ([]model.Row, error) {
	present := map[ContactRef]bool{}
	for _, r := range have {
		if ir, ok := r.(*model.IdentityRow); ok {
			present[ContactRef{ir.Tenant, ir.ContactID}] = true
		}
	}
	var rows []model.Row
	for _, ref := range refs {
		if present[ref] {
			continue
		}
		present[ref] = true
		r, err := get(s.st, ref.Tenant, ref.ID)
		if err != nil {
			return rows, err
		}
		if r != nil {
			rows = append(rows, r.row())
		}
	}
	return rows, nil
}
