package report

import (
	"fmt"
	"testing"

	"github.com/wapipe/wapipe/state"
)

// A filter never answers "absent" for a state it was given, even past the size it was made
// for; and it answers "absent" for most others.
func TestSegmentFilterNeverMissesAState(t *testing.T) {
	f := newSegmentFilter(1000)
	for i := range 1000 {
		f.add(stateHash(windowMsg, tenant, fmt.Sprint("m", i)))
	}
	false_ := 0
	for i := range 1000 {
		if !f.mayHold(stateHash(windowMsg, tenant, fmt.Sprint("m", i))) {
			t.Fatalf("m%d was added and is not held", i)
		}
		if f.mayHold(stateHash(windowMsg, tenant, fmt.Sprint("other", i))) {
			false_++
		}
	}
	if false_ > 50 {
		t.Errorf("%d of 1000 absent states held: the filter saves little", false_)
	}
	back, err := decodeSegmentFilter(f.encode())
	if err != nil || back.n != f.n || !back.mayHold(stateHash(windowMsg, tenant, "m7")) {
		t.Fatalf("decoded filter %v, %v", back, err)
	}
	f.add(stateHash(windowMsg, tenant, "one too many"))
	if !f.mayHold(stateHash(windowMsg, tenant, "never added")) {
		t.Error("a filter fuller than its size still answers absent")
	}
}

// The filters survive a restart: a message of a segment the watermark has left (its filter was
// written when it closed) and one of the newest segment (its filter is rebuilt from its keys)
// are both found by the restarted builder, so their statuses update them instead of starting
// new states.
func TestFilteredSegmentsAreFoundAfterARestart(t *testing.T) {
	db := openDB(t)
	st := state.Open(db)
	first, err := New(db, Config{State: st})
	if err != nil {
		t.Fatal(err)
	}
	v := newView(t)
	v.apply(first, alice, status("old", "sent", t0))
	v.apply(first, alice, status("new", "sent", t0+3*day))
	flush(t, first)
	if n := len(first.win.filters); n < 2 {
		t.Fatalf("%d filters, want one per live segment", n)
	}

	restarted, err := New(db, Config{State: state.Open(db)})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"old", "new"} {
		if _, ok, err := restarted.MessageContact(tenant, id); err != nil || !ok {
			t.Fatalf("message %q not found after a restart (%v)", id, err)
		}
	}
	v.apply(restarted, alice, status("old", "read", t0+3*day+60))
	if got := v.chat["old"]; got == nil || got.SentAt != t0 || got.Status != "read" {
		t.Fatalf("a status after the restart did not find its message: %+v", got)
	}
}
