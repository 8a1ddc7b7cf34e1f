package identity

import (
	"sync"
	"testing"
)

func TestLookup(t *testing.T) {
	s := newStore(t)
	resolve(t, s, Facts{Tenant: "a", At: 100, BSUID: b1, Phone: p1, Username: "@Ana", ProfileName: "Ana"})
	resolve(t, s, Facts{Tenant: "b", At: 200, Phone: p1})
	resolve(t, s, Facts{Tenant: "a", At: 300, BSUID: b2, PreviousBSUID: b1})

	c, ok, err := s.Lookup("a", KeyUsername, "@ana")
	if err != nil || !ok || c.ID != ContactID("a", KeyBSUID, b1) || c.Username != "@Ana" || c.BSUID != b2 {
		t.Fatalf("Lookup(a, username @ana) = %+v, %v, %v", c, ok, err)
	}
	want := map[string]Key{
		"bsuid " + b1:   {KeyBSUID, b1, 100, 300},
		"bsuid " + b2:   {KeyBSUID, b2, 300, 300},
		"phone " + p1:   {KeyPhone, p1, 100, 100},
		"username @Ana": {KeyUsername, "@Ana", 100, 100},
	}
	if len(c.Keys) != len(want) {
		t.Fatalf("keys = %+v", c.Keys)
	}
	for _, k := range c.Keys {
		if want[k.Type+" "+k.Value] != k {
			t.Errorf("key %+v, want %+v", k, want[k.Type+" "+k.Value])
		}
	}

	all, err := s.LookupAll("", KeyPhone, p1)
	if err != nil || len(all) != 2 || all[0].Tenant != "a" || all[1].Tenant != "b" || all[1].ID != ContactID("b", KeyPhone, p1) {
		t.Fatalf("LookupAll(any tenant, phone) = %+v, %v", all, err)
	}
	if c, ok, _ := s.Lookup("", KeyBSUID, b1); !ok || c.Tenant != "a" || c.BSUID != b2 {
		t.Fatalf("Lookup(any tenant, old bsuid) = %+v, %v", c, ok)
	}
	for _, q := range [][3]string{{"a", KeyPhone, "999"}, {"c", KeyPhone, p1}, {"", KeyUsername, "@nobody"}} {
		if c, ok, err := s.Lookup(q[0], q[1], q[2]); ok || err != nil {
			t.Errorf("Lookup(%v) = %+v, %v, %v; want not found", q, c, ok, err)
		}
	}
}

// A merged contact is still readable, says where it went, and its keys resolve to the survivor.
func TestMergedContactReadable(t *testing.T) {
	s := newStore(t)
	resolve(t, s, Facts{At: 100, Phone: p1})
	resolve(t, s, Facts{At: 200, BSUID: b1})
	resolve(t, s, Facts{At: 300, BSUID: b1, Phone: p1})
	loser := ContactID(tenant, KeyBSUID, b1)
	c := contact(t, s, loser)
	if c.MergedInto != ContactID(tenant, KeyPhone, p1) || len(c.Keys) != 0 || c.BSUID != b1 {
		t.Fatalf("merged contact = %+v", c)
	}
	if got, _, _ := s.Lookup(tenant, KeyBSUID, b1); got.ID != c.MergedInto || got.MergedInto != "" {
		t.Fatalf("Lookup(bsuid) = %+v", got)
	}
	if _, ok, err := s.Contact(tenant, "c_missing"); ok || err != nil {
		t.Fatalf("Contact(missing) = %v, %v", ok, err)
	}
}

// Writers and readers may share a Store (the lookup API serves while the worker
// resolves); go test -race checks the locking.
func TestConcurrentUse(t *testing.T) {
	s := newStore(t)
	fs := randomFacts(21, 400, 16)
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Go(func() {
			for i := g; i < len(fs); i += 3 {
				if _, err := s.Resolve(fs[i]); err != nil {
					t.Error(err)
					return
				}
				if _, _, err := s.Lookup("", KeyPhone, fs[i].Phone+"0"); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	dump(t, s) // the key index and the contacts' key lists still agree
}
