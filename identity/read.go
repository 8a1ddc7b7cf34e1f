package identity

import (
	"bytes"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/wapipe/wapipe/model"
)

// Readers see committed state only and do not take the writers' mutex, so a lookup
// API can serve while the worker resolves.

// ContactOf returns the id of the contact a key resolves to, following merged_into to
// the survivor. Usernames compare case-insensitively.
func (s *Store) ContactOf(tenant, keyType, keyValue string) (contactID string, ok bool, err error) {
	c, ok, err := s.Lookup(tenant, keyType, keyValue)
	return c.ID, ok, err
}

// Contact returns one contact as stored, without following merged_into: a merged
// contact comes back with MergedInto set and no keys.
func (s *Store) Contact(tenant, contactID string) (Contact, bool, error) {
	var r *record
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		r, err = get(txn, tenant, contactID)
		return err
	})
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
	err := s.db.View(func(txn *badger.Txn) error {
		if tenant != "" {
			item, err := txn.Get(indexKey(code, value, tenant))
			if errors.Is(err, badger.ErrKeyNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			return follow(txn, tenant, item, &out)
		}
		scan := indexScan(code, value)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: scan})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			t := string(bytes.TrimPrefix(it.Item().Key(), scan))
			if err := follow(txn, t, it.Item(), &out); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// LookupID returns the surviving contact of a contact id, following merged_into as
// LookupAll does for a key: one at most for a tenant, one per tenant that holds the id
// when tenant is "" (a seek per tenant, reading keys only).
func (s *Store) LookupID(tenant, contactID string) ([]Contact, error) {
	var out []Contact
	err := s.db.View(func(txn *badger.Txn) error {
		in := func(t string) error {
			_, err := txn.Get(contactKey(t, contactID))
			if errors.Is(err, badger.ErrKeyNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			return followID(txn, t, contactID, &out)
		}
		if tenant != "" {
			return in(tenant)
		}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(contactPfx)})
		defer it.Close()
		for it.Rewind(); it.Valid(); {
			rest := it.Item().Key()[len(contactPfx):]
			end := bytes.IndexByte(rest, 0)
			if end < 0 {
				it.Next()
				continue
			}
			t := string(rest[:end])
			if err := in(t); err != nil {
				return err
			}
			it.Seek(append([]byte(contactPfx+t), 1)) // past this tenant's contacts
		}
		return nil
	})
	return out, err
}

// follow appends the survivor of the contact an index item points at.
func follow(txn *badger.Txn, tenant string, item *badger.Item, out *[]Contact) error {
	id, err := item.ValueCopy(nil)
	if err != nil {
		return err
	}
	return followID(txn, tenant, string(id), out)
}

// followID appends the survivor of a contact, with the contacts merged into it.
func followID(txn *badger.Txn, tenant, id string, out *[]Contact) error {
	r, err := survivor(txn, tenant, id)
	if err != nil {
		return err
	}
	c := r.contact()
	err = mergedInto(txn, tenant, r.id, 0, func(l *record) { c.MergedFrom = append(c.MergedFrom, l.id) })
	*out = append(*out, c)
	return err
}

func get(txn *badger.Txn, tenant, id string) (*record, error) {
	item, err := txn.Get(contactKey(tenant, id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r *record
	err = item.Value(func(v []byte) error {
		r, err = decode(tenant, id, v)
		return err
	})
	return r, err
}

// survivor follows merged_into from a contact to the one that survives.
func survivor(txn *badger.Txn, tenant, id string) (*record, error) {
	for range 16 {
		r, err := get(txn, tenant, id)
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
	err = s.view(func(txn *badger.Txn) error {
		if r, err := get(txn, f.Tenant, contactID); err != nil || r == nil {
			return err
		}
		r, err := survivor(txn, f.Tenant, contactID)
		if err != nil {
			return err
		}
		w, ok = who(&f, r), true
		return nil
	})
	return w, ok, err
}
