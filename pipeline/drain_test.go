package pipeline

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wapipe/wapipe/unit"
)

// blockingSink holds every Write until release is closed (or ctx ends).
type blockingSink struct {
	release chan struct{}
	entered chan struct{} // closed at the first Write
	once    sync.Once
}

func newBlockingSink() *blockingSink {
	return &blockingSink{release: make(chan struct{}), entered: make(chan struct{})}
}

func (s *blockingSink) Write(ctx context.Context, _ []*unit.Unit) error {
	s.once.Do(func() { close(s.entered) })
	select {
	case <-s.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// While the sink blocks, fetching stops within the byte budget: the bodies fetched and not
// yet durable never exceed the records' part of MaxInFlightBytes (the rest is the readers'
// fetches, prefetch.go). Once the sink recovers, everything is committed.
func TestBlockedSinkBoundsBytesInFlight(t *testing.T) {
	const parts, n, size = 2, 100, 1000
	const maxInFlight = 20 * size
	tc := newTestCluster(t, parts)
	tc.fill(n, size, func(p, i int) string { return "v" })
	d := newDurable()

	// inFlight counts bodies from decode (after the budget is charged) to AfterDurable
	// (before it is released): it can only overstate what the runner holds.
	var inFlight, peak atomic.Int64
	st := plainStages()
	st.Decode = func(u *unit.Unit) {
		v := inFlight.Add(int64(len(u.Rec.Value)))
		for p := peak.Load(); v > p && !peak.CompareAndSwap(p, v); p = peak.Load() {
		}
	}
	after := func(ctx context.Context, batch []*unit.Unit) error {
		for _, u := range batch {
			inFlight.Add(-int64(len(u.Rec.Value)))
		}
		return d.after(ctx, batch)
	}
	cfg := tc.config("g")
	cfg.MaxInFlightBytes = maxInFlight
	withDefaults, err := cfg.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	budget := withDefaults.recordBytes()
	sink := newBlockingSink()
	run := start(t, cfg, st, sink, after)

	<-sink.entered
	// Wait until fetching has stalled on the budget, then give it time to overrun.
	if !eventually(5*time.Second, func() bool { return inFlight.Load() >= budget-size }) {
		t.Fatalf("fetched only %d bytes while the sink blocked, want about the budget %d", inFlight.Load(), budget)
	}
	time.Sleep(300 * time.Millisecond)
	if got := peak.Load(); got > budget+size {
		t.Errorf("%d bytes in flight while the sink blocked, budget %d", got, budget)
	}
	if got := value(run.m.Consumed); got >= parts*n {
		t.Errorf("consumed all %v records while the sink blocked", got)
	}
	if got := tc.committed("g"); got[0] > 0 || got[1] > 0 {
		t.Errorf("committed %v while nothing was durable", got)
	}

	close(sink.release)
	tc.waitCommitted("g", n, 8*time.Second)
	if err := run.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	d.check(t, parts, n, true)
	if got := peak.Load(); got > budget+size {
		t.Errorf("peak %d bytes in flight, budget %d", got, budget)
	}
}

// Cancelling Run drains: the batch in the sink when the worker is told to stop is made
// durable, its offsets are committed before the group is left, and Run returns nil.
func TestShutdownDrainsAndCommits(t *testing.T) {
	const parts, n = 2, 40
	tc := newTestCluster(t, parts)
	tc.fill(n, 10, func(p, i int) string { return "v" })
	d := newDurable()
	sink := newBlockingSink()
	run := start(t, tc.config("g"), plainStages(), sink, d.after)

	<-sink.entered
	run.cancel()
	time.Sleep(100 * time.Millisecond) // the shutdown has begun with a batch in the sink
	close(sink.release)
	var err error
	select {
	case err = <-run.done:
		run.done <- err
	case <-time.After(8 * time.Second):
		t.Fatal("Run did not return after the drain")
	}
	if err != nil {
		t.Fatalf("Run after a clean drain: %v", err)
	}
	if d.count() == 0 {
		t.Fatal("nothing became durable during the drain")
	}
	// Every record that entered the pipeline is durable and committed, and nothing else.
	if c, w := value(run.m.Consumed), value(run.m.Written); c != w {
		t.Errorf("consumed %v records, %v durable after the drain", c, w)
	}
	d.mu.Lock()
	want := map[int]int64{}
	for k := range d.seen {
		if k.off+1 > want[k.p] {
			want[k.p] = k.off + 1
		}
	}
	d.mu.Unlock()
	got := tc.committed("g")
	for p := 0; p < parts; p++ {
		if w, ok := want[p]; ok && got[p] != w {
			t.Errorf("partition %d committed at %d, durable up to %d", p, got[p], w)
		}
	}
}

// A sink still blocked when ShutdownTimeout ends: Run says the drain timed out, and
// nothing that was not durable is committed.
func TestShutdownTimeoutCommitsNothingPending(t *testing.T) {
	tc := newTestCluster(t, 1)
	tc.fill(10, 10, func(p, i int) string { return "v" })
	cfg := tc.config("g")
	cfg.ShutdownTimeout = 300 * time.Millisecond
	cfg.DrainTimeout = 300 * time.Millisecond
	sink := newBlockingSink() // never released
	run := start(t, cfg, plainStages(), sink, nil)
	<-sink.entered
	if err := run.stop(t); err == nil {
		t.Fatal("Run returned nil though the sink never finished")
	}
	if got := tc.committed("g")[0]; got > 0 {
		t.Errorf("committed %d with nothing durable", got)
	}
}
