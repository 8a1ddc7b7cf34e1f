package identity

import (
	"testing"

	badger "github.com/dgraph-io/badger/v4"
)

// LookupID follows a merged-away contact id to its survivor, in one tenant or in every tenant
// that holds the id, and finds nothing for an unknown id or a tenant without it.
func TestLookupIDFollowsMerges(t *testing.T) {
	db, err := badger.Open(BadgerOptions(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := New(db)
	for _, f := range []Facts{
		{Tenant: "a", At: 100, Phone: "573001110000"},
		{Tenant: "a", At: 200, BSUID: "CO.1"},
		{Tenant: "a", At: 300, BSUID: "CO.1", Phone: "573001110000"}, // merges CO.1's contact into the phone's
		{Tenant: "ab", At: 100, BSUID: "CO.1"},                       // a tenant whose name extends "a"
		{Tenant: "b", At: 100, BSUID: "CO.2"},
	} {
		if _, err := s.Resolve(f); err != nil {
			t.Fatal(err)
		}
	}
	survivor, loser := ContactID("a", KeyPhone, "573001110000"), ContactID("a", KeyBSUID, "CO.1")
	for _, c := range []struct {
		tenant, id string
		want       []string // tenant/contact of each answer
	}{
		{"a", loser, []string{"a/" + survivor}},
		{"", loser, []string{"a/" + survivor}},
		{"", survivor, []string{"a/" + survivor}},
		{"", ContactID("ab", KeyBSUID, "CO.1"), []string{"ab/" + ContactID("ab", KeyBSUID, "CO.1")}},
		{"", ContactID("b", KeyBSUID, "CO.2"), []string{"b/" + ContactID("b", KeyBSUID, "CO.2")}},
		{"b", loser, nil},
		{"", "c_0000000000000000", nil},
	} {
		cs, err := s.LookupID(c.tenant, c.id)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, x := range cs {
			got = append(got, x.Tenant+"/"+x.ID)
		}
		if len(got) != len(c.want) || (len(got) > 0 && got[0] != c.want[0]) {
			t.Errorf("LookupID(%q, %s) = %v, want %v", c.tenant, c.id, got, c.want)
		}
	}
	cs, _ := s.LookupID("", loser)
	if len(cs) != 1 || len(cs[0].MergedFrom) != 1 || cs[0].MergedFrom[0] != loser {
		t.Errorf("the survivor's merged_from: %+v", cs)
	}
}
