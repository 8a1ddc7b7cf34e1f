package identity

import (
	"testing"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/state"
)

const tenant = "t1"

func openDB(t testing.TB, dir string) *badger.DB {
	t.Helper()
	db, err := badger.Open(BadgerOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newStore(t testing.TB) *Store {
	t.Helper()
	return New(openDB(t, t.TempDir()))
}

// sharedStore is the store as the worker runs it: on a state its caller seals once per
// batch and checkpoints once the batch's rows are durable (checkpoint).
func sharedStore(t testing.TB, db *badger.DB) *Store {
	return NewWithConfig(nil, Config{State: state.Open(db), CacheContacts: 64})
}

// checkpoint ends a batch of a shared store and makes it durable.
func checkpoint(t testing.TB, s *Store) {
	t.Helper()
	s.st.Seal()
	if err := s.st.Checkpoint(); err != nil {
		t.Fatal(err)
	}
}

func resolve(t testing.TB, s *Store, f Facts) Resolution {
	t.Helper()
	if f.Tenant == "" {
		f.Tenant = tenant
	}
	r, err := s.Resolve(f)
	if err != nil {
		t.Fatalf("Resolve(%+v): %v", f, err)
	}
	return r
}

func contactOf(t testing.TB, s *Store, keyType, value string) string {
	t.Helper()
	id, ok, err := s.ContactOf(tenant, keyType, value)
	if err != nil || !ok {
		t.Fatalf("ContactOf(%s %s) = %q, %v, %v", keyType, value, id, ok, err)
	}
	return id
}

func contact(t testing.TB, s *Store, id string) Contact {
	t.Helper()
	c, ok, err := s.Contact(tenant, id)
	if err != nil || !ok {
		t.Fatalf("Contact(%s) = %v, %v", id, ok, err)
	}
	return c
}

// identityRows returns the identities rows of a resolution by contact id.
func identityRows(r Resolution) map[string]*model.IdentityRow {
	out := map[string]*model.IdentityRow{}
	for _, row := range r.Changed {
		if ir, ok := row.(*model.IdentityRow); ok {
			out[ir.ContactID] = ir
		}
	}
	return out
}

// keyRows returns the contact_keys rows of a resolution as "type value" -> contact id.
func keyRows(r Resolution) map[string]string {
	out := map[string]string{}
	for _, row := range r.Changed {
		if kr, ok := row.(*model.ContactKeyRow); ok {
			out[kr.KeyType+" "+kr.KeyValue] = kr.ContactID
		}
	}
	return out
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}
