package identity

import (
	"fmt"
	"slices"
)

// Snapshots are how the workers of a consumer group share one identity store (contract
// section 4, rule 8). Each worker publishes the current record of every contact it changed
// to a compacted topic keyed by tenant and contact, and imports every other worker's
// snapshots into its own store (Import). Importing is a join: keys and first/last seen are
// unioned, facts keep the newest (rule 7), contacts that share a BSUID or phone merge into
// the oldest, and a contact merged away here comes back when a snapshot shows it is older
// than the one it was merged into. Whatever order the snapshots arrive in, every worker
// ends with the same contacts.

// snapshotFormat leads a snapshot; the rest is the tenant, the contact id and the record
// in the store's own encoding (codec.go).
const snapshotFormat byte = 's'

// Snapshot is one contact as published on the identity topic.
type Snapshot struct {
	Key, Value []byte
	Live       bool // not merged into another contact
}

// SnapshotKey is the topic key of a contact's snapshots: tenant NUL contact id, so a
// compacted topic keeps the newest snapshot of each contact.
func SnapshotKey(tenant, contactID string) []byte {
	return append(append([]byte(tenant), 0), contactID...)
}

// Snapshots returns the current snapshot of each contact named and, for a contact merged
// away, of its survivor too (which holds its keys now), live contacts first, so that an
// importer reading one partition in order meets a survivor before the contacts merged
// into it. Unknown contacts are skipped.
func (s *Store) Snapshots(ids []ContactRef) ([]Snapshot, error) {
	out := make([]Snapshot, 0, len(ids))
	done := make(map[ContactRef]bool, len(ids))
	add := func(r *record) {
		if ref := (ContactRef{r.tenant, r.id}); !done[ref] {
			done[ref] = true
			out = append(out, Snapshot{Key: SnapshotKey(r.tenant, r.id), Value: r.snapshot(), Live: r.mergedInto == ""})
		}
	}
	err := func() error {
		for _, ref := range ids {
			if done[ref] {
				continue
			}
			r, err := s.durable(ref.Tenant, ref.ID)
			if err != nil {
				return err
			}
			if r == nil {
				continue
			}
			add(r)
			for hops := 0; r.mergedInto != "" && hops < 16; hops++ {
				if r, err = s.durable(r.tenant, r.mergedInto); err != nil {
					return err
				}
				if r == nil {
					return fmt.Errorf("%w: %s/%s is referenced but missing", ErrCorrupt, ref.Tenant, ref.ID)
				}
			}
			add(r)
		}
		return nil
	}()
	slices.SortStableFunc(out, func(a, b Snapshot) int {
		switch {
		case a.Live == b.Live:
			return 0
		case a.Live:
			return -1
		}
		return 1
	})
	return out, err
}

// durable returns a contact as checkpointed (state.GetCheckpointed), not as the process
// goroutine may have changed it since in the open batch: a snapshot must not share what a
// crash could still take back (another worker would keep it, and count it again on replay).
func (s *Store) durable(tenant, id string) (*record, error) {
	var r *record
	_, err := s.st.GetCheckpointed(contactKey(tenant, id), func(v []byte) error {
		var err error
		r, err = decode(tenant, id, v)
		return err
	})
	return r, err
}

// ContactRef names one contact.
type ContactRef struct{ Tenant, ID string }

func (r *record) snapshot() []byte {
	b := make([]byte, 0, 96+len(r.tenant)+len(r.id)+16*len(r.keys))
	b = append(b, snapshotFormat)
	b = appendString(b, r.tenant)
	b = appendString(b, r.id)
	return r.encode(b)
}

// decodeSnapshot parses a snapshot.
func decodeSnapshot(v []byte) (*record, error) {
	if len(v) == 0 || v[0] != snapshotFormat {
		return nil, fmt.Errorf("%w: not a contact snapshot", ErrInvalid)
	}
	d := reader{s: string(v[1:])}
	tenant, id := d.string(), d.string()
	if d.err || tenant == "" || id == "" {
		return nil, fmt.Errorf("%w: snapshot without tenant or contact id", ErrInvalid)
	}
	r, err := decode(tenant, id, []byte(d.s))
	if err != nil {
		return nil, fmt.Errorf("%w: snapshot of %s/%s: %v", ErrInvalid, tenant, id, err)
	}
	for i := range r.keys {
		if _, ok := codeName(r.keys[i].code); !ok {
			return nil, fmt.Errorf("%w: snapshot of %s/%s: unknown key code %q", ErrInvalid, tenant, id, r.keys[i].code)
		}
	}
	return r, nil
}

func codeName(code byte) (string, bool) {
	switch code {
	case codeBSUID, codeParent, codePhone, codeUser:
		return typeOf(code), true
	}
	return "", false
}
