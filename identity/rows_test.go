package identity

import (
	"testing"

	"github.com/wapipe/wapipe/model"
)

// After a crash the pipeline replays events whose rows were lost; Resolve then changes
// nothing, so Rows must give back the survivor's rows and the loser's merged_into row.
func TestRowsReemitMergedContacts(t *testing.T) {
	s := newStore(t)
	apply := func(f Facts) {
		if _, err := s.Resolve(f); err != nil {
			t.Fatal(err)
		}
	}
	apply(Facts{Tenant: "t", At: 100, Phone: "573001112233"})
	apply(Facts{Tenant: "t", At: 200, BSUID: "CO.111"})
	apply(Facts{Tenant: "t", At: 300, BSUID: "CO.111", Phone: "573001112233"})
	survivor := ContactID("t", KeyPhone, "573001112233")
	loser := ContactID("t", KeyBSUID, "CO.111")

	rows, err := s.Rows("t", survivor)
	if err != nil {
		t.Fatal(err)
	}
	merged, keys := false, 0
	for _, r := range rows {
		switch r := r.(type) {
		case *model.IdentityRow:
			if r.ContactID == loser && r.MergedInto == survivor {
				merged = true
			}
		case *model.ContactKeyRow:
			if r.ContactID == survivor {
				keys++
			}
		}
	}
	if !merged {
		t.Errorf("Rows(%s) lacks the loser %s with merged_into: %v", survivor, loser, rows)
	}
	if keys != 2 {
		t.Errorf("Rows gave %d key rows of the survivor, want 2 (phone and BSUID)", keys)
	}
}

// A failed status joined through a message sent before a merge lands on today's contact,
// with the phone known to it.
func TestWhoOfFollowsMerges(t *testing.T) {
	s := newStore(t)
	for _, f := range []Facts{
		{Tenant: "t", At: 100, Phone: "573001112233"},
		{Tenant: "t", At: 200, BSUID: "CO.111"},
		{Tenant: "t", At: 300, BSUID: "CO.111", Phone: "573001112233"},
	} {
		if _, err := s.Resolve(f); err != nil {
			t.Fatal(err)
		}
	}
	w, ok, err := s.WhoOf(Facts{Tenant: "t"}, ContactID("t", KeyBSUID, "CO.111"))
	if err != nil || !ok {
		t.Fatalf("WhoOf: ok=%v err=%v", ok, err)
	}
	if w.ContactID != ContactID("t", KeyPhone, "573001112233") || w.Phone == nil ||
		*w.Phone != "573001112233" || w.PhoneSource != model.PhoneFromIdentity {
		t.Errorf("who %+v: want the surviving contact with its phone from identity", w)
	}
	if _, ok, _ := s.WhoOf(Facts{Tenant: "t"}, "c_unknown"); ok {
		t.Error("an unknown contact must not resolve")
	}
}
