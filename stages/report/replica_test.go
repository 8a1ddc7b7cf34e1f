package report

import (
	"reflect"
	"testing"

	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/state"
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
	var republish bool
	exchange := func(from, to *Builder) []model.Row {
		t.Helper()
		if err := endBatch(from); err != nil { // as the pipeline does before publishing
			t.Fatal(err)
		}
		_, values, err := from.LeadSnapshots([]LeadRef{{tenant, alice.ContactID, "AD1"}})
		if err != nil || len(values) != 1 {
			t.Fatalf("LeadSnapshots: %d values, %v", len(values), err)
		}
		rows, again, err := to.ImportLead(values[0], same)
		if err != nil {
			t.Fatal(err)
		}
		v.add(rows)
		republish = again
		return rows
	}
	// The topic is compacted: B's snapshot, published after A's, is the one that stays, so
	// A's snapshot lacking B's touch must make B publish its own.
	exchange(a, b)
	if !republish {
		t.Error("A's snapshot lacks B's touch, and B was not asked to publish its own")
	}
	exchange(b, a)
	if republish {
		t.Error("B's snapshot holds every touch A has, and A was asked to publish again")
	}
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
	if _, _, err := a.ImportLead([]byte("l junk"), same); err == nil {
		t.Error("a corrupt lead snapshot was accepted")
	}
}

// A worker's rev counts its own changes. After a rebalance, B replays a referral it only
// knew from A's snapshot: its row outranks A's with one touch of A's two. When A imports
// B's snapshot it holds everything already, but its row must go again above B's, or
// sum(touches) over leads FINAL loses A's second touch.
func TestImportLeadOutranksAPoorerRowOfAnotherWorker(t *testing.T) {
	a, b, v := newBuilder(t, 0), newBuilder(t, 0), newView(t)
	same := func(tenant, contact string) (model.Who, error) { return alice, nil }
	exchange := func(from, to *Builder) {
		t.Helper()
		if err := endBatch(from); err != nil {
			t.Fatal(err)
		}
		_, values, err := from.LeadSnapshots([]LeadRef{{tenant, alice.ContactID, "AD1"}})
		if err != nil || len(values) != 1 {
			t.Fatalf("LeadSnapshots: %d values, %v", len(values), err)
		}
		rows, _, err := to.ImportLead(values[0], same)
		if err != nil {
			t.Fatal(err)
		}
		v.add(rows)
	}
	v.apply(a, alice, inbound("w1", t0, ad("AD1", "clid-1")))
	exchange(a, b)
	v.apply(a, alice, inbound("w2", t0+hour, ad("AD1", "clid-2")))
	v.apply(b, alice, inbound("w1", t0, ad("AD1", "clid-1"))) // the replay on the partition's new owner
	if l := v.leads["c-alice|AD1"]; l == nil || l.Touches != 1 {
		t.Fatalf("the scenario needs B's one-touch row on top; the newest row is %+v", l)
	}
	exchange(b, a)
	if l := v.leads["c-alice|AD1"]; l.Touches != 2 || l.FirstMessageID != "w1" || l.CtwaClid != "clid-2" {
		t.Fatalf("newest lead row after A imported B's snapshot: %+v, want both touches", l)
	}
	exchange(a, b)
	exchange(b, a)
	if l := v.leads["c-alice|AD1"]; l.Touches != 2 {
		t.Fatalf("newest lead row after exchanging again: %+v", l)
	}
}

// A stop cut off the batch that held B's import of A's lead, after B's state committed it.
// At restart B reads the snapshot again: it changes nothing here, but the row goes again,
// or ClickHouse never gets it.
func TestImportLeadReadAgainAfterAStopWritesTheRow(t *testing.T) {
	a := newBuilder(t, 0)
	newView(t).apply(a, alice, inbound("w1", t0, ad("AD1", "clid-1")))
	if err := endBatch(a); err != nil {
		t.Fatal(err)
	}
	_, values, err := a.LeadSnapshots([]LeadRef{{tenant, alice.ContactID, "AD1"}})
	if err != nil || len(values) != 1 {
		t.Fatalf("LeadSnapshots: %d values, %v", len(values), err)
	}
	same := func(tenant, contact string) (model.Who, error) { return alice, nil }
	db := openDB(t)
	var lost []model.Row
	for run := 0; run < 2; run++ { // before the stop, and after the restart
		b, err := New(db, Config{State: state.Open(db)})
		if err != nil {
			t.Fatal(err)
		}
		rows, _, err := b.ImportLead(values[0], same)
		if err != nil {
			t.Fatal(err)
		}
		if err := endBatch(b); err != nil {
			t.Fatal(err)
		}
		if run == 0 {
			lost = rows
			continue
		}
		if len(rows) != 1 || len(lost) != 1 || !reflect.DeepEqual(rows[0], lost[0]) {
			t.Fatalf("after the restart the import returned %v; want again the row lost in the stop, %v", rows, lost)
		}
	}
}
