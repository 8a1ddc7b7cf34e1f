package identity

import (
	"bytes"
	"fmt"

	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/state"
)

// Readers see every event applied so far, whole (never half an event), and do not take
// the writers' mutex, so a lookup API can serve while the worker resolves.

// ContactOf returns the id of the contact a key resolves to, following merged_into to
// the survivor. Usernames compare case-insensitively.
func (s *Store) ContactOf(tenant, keyType, keyValue string) (contactID string, ok bool, err error) {
	c, ok, err := s.Lookup(tenant, keyType, keyValue)
	return c.ID, ok, err
}

// Contact returns one contact as stored, without following merged_into: a merged
// contact comes back with MergedInto set and no keys.
func (s *Store) Contact(tenant, contactID string) (Contact, bool, error) {
	r, err := get(s.st, tenant, contactID)
	if err != nil || r == nil {
		return Contact{}, false, err
	}
	return r.contact(), true, nil
}

// Lookup returns the surviving contact of a key. With tenant "" it searches every
// tenant and returns the first match in tenant order; LookupAll returns them all.
func (s *Store) Lookup(tenant, keyType, value string) (Contact, bool, error) {
	cs, err := s.LookupAll(tenant, keyType, value)
	if err != nil || len(cs) == 0 {
		return Contact{}, false, err
	}
	return cs[0], true, nil
}

// LookupAll returns the surviving contacts of a key: one at most for a tenant, one
// per tenant that knows the key when tenant is "" (a prefix scan of the index).
func (s *Store) LookupAll(tenant, keyType, value string) ([]Contact, error) {
	code, ok := codeOf(keyType)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrKeyType, keyType)
	}
	var out []Contact
	if tenant != "" {
		var id string
		found, err := s.st.Get(indexKey(code, value, tenant), func(v []byte) error { id = string(v); return nil })
		if err != nil || !found {
			return nil, err
		}
		return out, followID(s.st, tenant, id, &out)
	}
	scan := indexScan(code, value)
	var ids [][2]string // tenant, contact id: followed after the scan, which must not nest reads
	err := s.st.Scan(scan, func(k, v []byte) error {
		ids = append(ids, [2]string{string(bytes.TrimPrefix(k, scan)), string(v)})
		return nil
	})
	for _, id := range ids {
		if err != nil {
			break
		}
		err = followID(s.st, id[0], id[1], &out)
	}
	return out, err
}

// LookupID returns the surviving contact of a contact id, following merged_into as
// LookupAll does for a key: one at most for a tenant, one per tenant that holds the id
// when tenant is "" (a seek per tenant, reading keys only).
func (s *Store) LookupID(tenant, contactID string) ([]Contact, error) {
	var out []Contact
	in := func(t string) error {
		r, err := get(s.st, t, contactID)
		if err != nil || r == nil {
			return err
		}
		return followID(s.st, t, contactID, &out)
	}
	if tenant != "" {
		return out, in(tenant)
	}
	for from := []byte(contactPfx); ; {
		k, ok, err := s.st.Seek([]byte(contactPfx), from)
		if err != nil || !ok {
			return out, err
		}
		rest := k[len(contactPfx):]
		end := bytes.IndexByte(rest, 0)
		if end < 0 {
			from = append(k, 0)
			continue
		}
		t := string(rest[:end])
		if err := in(t); err != nil {
			return out, err
		}
		from = append([]byte(contactPfx+t), 1) // past this tenant's contacts
	}
}

// followID appends the survivor of a contact, with the contacts merged into it.
func followID(st *state.Store, tenant, id string, out *[]Contact) error {
	r, err := survivor(st, tenant, id)
	if err != nil {
		return err
	}
	c := r.contact()
	err = mergedInto(st, tenant, r.id, 0, func(l *record) { c.MergedFrom = append(c.MergedFrom, l.id) })
	*out = append(*out, c)
	return err
}

func get(st *state.Store, tenant, id string) (*record, error) {
	var r *record
	_, err := st.Get(contactKey(tenant, id), func(v []byte) error {
		var err error
		r, err = decode(tenant, id, v)
		return err
	})
	return r, err
}

// survivor follows merged_into from a contact to the one that survives.
func survivor(st *state.Store, tenant, id string) (*record, error) {
	for range 16 {
		r, err := get(st, tenant, id)
		if err != nil {
			return nil, err
		}
		if r == nil {
			return nil, fmt.Errorf("%w: %s/%s is referenced but missing", ErrCorrupt, tenant, id)
		}
		if r.mergedInto == "" {
			return r, nil
		}
		id = r.mergedInto
	}
	return nil, fmt.Errorf("%w: merged_into chain too long at %s/%s", ErrCorrupt, tenant, id)
}

func (r *record) contact() Contact {
	c := Contact{
		Tenant: r.tenant, ID: r.id,
		BSUID: r.bsuid.V, ParentBSUID: r.parent.V, Phone: r.phone.V, Username: r.username(), ProfileName: r.name.V,
		PhoneSource: r.phoneSource(), Country: country(r.bsuid.V),
		FirstSeen: r.firstSeen, LastSeen: r.lastSeen, MergedInto: r.mergedInto, Version: r.version, Erased: r.erased,
	}
	for _, k := range r.keys {
		c.Keys = append(c.Keys, Key{Type: typeOf(k.code), Value: k.value, FirstSeen: k.firstSeen, LastSeen: k.lastSeen})
	}
	return c
}

// WhoOf is the identity for the report rows of an event that names its contact only
// indirectly (a failed status joined through its message): the event's own facts first,
// then those of today's contact, following merges. ok is false for an unknown contact.
func (s *Store) WhoOf(f Facts, contactID string) (w model.Who, ok bool, err error) {
	if r, err := get(s.st, f.Tenant, contactID); err != nil || r == nil {
		return w, false, err
	}
	r, err := survivor(s.st, f.Tenant, contactID)
	if err != nil {
		return w, false, err
	}
	return who(&f, r), true, nil
}
