package main

import (
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/wapipe/wapipe/identity"
)

// A worker answers a lookup as ClickHouse does: without a tenant, the tenant where the key
// was seen last; a BSUID that is only a parent BSUID finds its contact.
func TestWorkerLookupAnswersAsClickHouseDoes(t *testing.T) {
	db, err := badger.Open(identity.BadgerOptions(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids := identity.New(db)
	for _, f := range []identity.Facts{
		{Tenant: "acme", At: 100, BSUID: "CO.111"},
		{Tenant: "zeta", At: 300, BSUID: "CO.111", ParentBSUID: "CO.ENT.9"},
		{Tenant: "beta", At: 200, BSUID: "CO.111"},
	} {
		if _, err := ids.Resolve(f); err != nil {
			t.Fatal(err)
		}
	}
	find := lookupIn(ids)
	for _, c := range []struct{ tenant, keyType, value, want string }{
		{"", "bsuid", "CO.111", "zeta"},
		{"beta", "bsuid", "CO.111", "beta"},
		{"", "bsuid", "CO.ENT.9", "zeta"},
	} {
		got, err := find(c.tenant, c.keyType, c.value)
		if err != nil || len(got) == 0 {
			t.Fatalf("%+v: %v %v", c, got, err)
		}
		if got[0].TenantID != c.want {
			t.Errorf("%+v: tenant %s", c, got[0].TenantID)
		}
	}
	if got, err := find("", "bsuid", "CO.222"); len(got) > 0 || err != nil {
		t.Errorf("an unknown BSUID: %v %v", got, err)
	}
}
