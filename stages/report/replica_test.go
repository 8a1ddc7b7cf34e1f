package report

import (
	"testing"

	"github.com/wapipe/wapipe/model"
)

// Two workers each count a touch of one lead (a rebalance moved the partition between the
// two referrals). After exchanging lead snapshots both count two touches, the newest row
// in ClickHouse says two, importing again changes nothing, and a third worker that only
// imported attributes the contact's next message to the ad.
func TestImportLeadJoinsTouchesAcrossWorkers(t *testing.T) {
	a, b, c, v := newBuilder(t, 0), newBuilder(t, 0), newBuilder(t, 0), newView(t)
	v.apply(a, alice, inbound("w1", t0, ad("AD1", "clid-1")))
	v.apply(b, alice, inbound("w2", t0+hour, ad("AD1", "clid-2")))
	same := func(tenant, contact string) (model.Who, error) { return alice, nil }
	exchange := func(from, to *Builder) []model.Row {
		t.Helper()
		if err := from.Flush(); err != nil { // as the pipeline does before publishing
			t.Fatal(err)
		}
		_, values, err := from.LeadSnapshots([]LeadRef{{tenant, alice.ContactID, "AD1"}})
		if err != nil || len(values) != 1 {
			t.Fatalf("LeadSnapshots: %d values, %v", len(values), err)
		}
		rows, err := to.ImportLead(values[0], same)
		if err != nil {
			t.Fatal(err)
		}
		v.add(rows)
		return rows
	}
	exchange(a, b)
	exchange(b, a)
	if l := v.leads["c-alice|AD1"]; l == nil || l.Touches != 2 || l.FirstMessageID != "w1" || l.CtwaClid != "clid-2" {
		t.Fatalf("lead after the exchange: %+v", l)
	}
	if rows := exchange(a, b); len(rows) != 0 {
		t.Errorf("importing again wrote %d rows", len(rows))
	}
	exchange(a, c)
	v.apply(c, alice, inbound("w3", t0+2*hour, nil))
	if row := v.chat["w3"]; deref(row.AdSourceID) != "AD1" {
		t.Errorf("the imported touch does not attribute: %+v", row)
	}
	if _, err := a.ImportLead([]byte("l junk"), same); err == nil {
		t.Error("a corrupt lead snapshot was accepted")
	}
}
