package report

import (
	"fmt"
	"testing"
)

func touchesNamed(from, to int) touchSet {
	var s touchSet
	for i := from; i < to; i++ {
		s = s.union(touchOf(fmt.Sprint("wamid.", i)))
	}
	return s
}

// Below the bound every touch counts once, whatever the order and however often a view is
// joined again.
func TestTouchSetCountsEachTouchOnce(t *testing.T) {
	a, b := touchesNamed(0, 300), touchesNamed(200, 500)
	ab, ba := a.union(b), b.union(a)
	if ab.count() != 500 || ba.count() != 500 || ab.union(b).union(a).count() != 500 {
		t.Fatalf("counts %d %d, want 500", ab.count(), ba.count())
	}
	if !ab.covers(a) || a.covers(b) {
		t.Fatal("covers: the union must cover its parts, a part not the other")
	}
}

// A lead with far more touches than the bound keeps a bounded state and snapshot, counts
// within 5%, and two workers that saw different halves agree with one that saw them all.
func TestTouchSetIsBoundedAndEstimatesBeyondIt(t *testing.T) {
	const n = 20_000
	all := touchesNamed(0, n)
	halves := touchesNamed(0, n/2).union(touchesNamed(n/2, n))
	if len(all) != maxTouchIDs {
		t.Fatalf("%d hashes kept, want the bound %d", len(all), maxTouchIDs)
	}
	if got := all.count(); got < n*95/100 || got > n*105/100 {
		t.Fatalf("estimated %d touches, want %d within 5%%", got, n)
	}
	if halves.count() != all.count() {
		t.Fatalf("two workers' halves joined count %d, one worker %d", halves.count(), all.count())
	}
	l := leadState{touches: all.count(), ids: all, firstMsg: "wamid.0"}
	if size := len(l.encode()); size > 9<<10 {
		t.Fatalf("a lead of %d touches encodes to %d bytes", n, size)
	}
}

// A lead written by the version that kept message ids decodes with the same count, and a
// touch it already holds is not counted again.
func TestLeadOfTheOlderFormatStillCounts(t *testing.T) {
	e := enc{formatV1}
	e.u(3)
	e.u(7)
	e.i(100)
	e.i(300)
	for _, s := range []string{"wamid.1", "ad", "", "", "", "", "pn", ""} {
		e.s(s)
	}
	e.u(3)
	for _, id := range []string{"wamid.1", "wamid.2", "wamid.3"} {
		e.s(id)
	}
	var l leadState
	if err := l.decode(e); err != nil {
		t.Fatal(err)
	}
	l.touch(leadState{touches: 1, ids: touchOf("wamid.2"), firstAt: 200, lastAt: 200})
	if l.touches != 3 {
		t.Fatalf("touches %d after a touch already held, want 3", l.touches)
	}
	var back leadState
	if err := back.decode(l.encode()); err != nil || back.touches != 3 || !back.ids.covers(l.ids) {
		t.Fatalf("re-encoded: %+v, %v", back, err)
	}
}
