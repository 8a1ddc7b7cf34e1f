package pipeline

import (
	"strings"
	"testing"
	"time"
)

// While the sink is away every record is fetched but none is committed: wapipe_consumer_lag
// counts them all (measured from the fetch position it read 0), and the lasting lag logs
// its progress. Once the sink is back and the offsets are committed, it returns to 0 and
// the end of the catch-up is logged once.
func TestConsumerLagAndInFlightDuringSinkOutage(t *testing.T) {
	const parts, n = 2, 50
	tc := newTestCluster(t, parts)
	tc.fill(n, 10, func(p, i int) string { return "v" })
	cfg := tc.config("g")
	cfg.LagInterval = 20 * time.Millisecond
	cfg.ProgressInterval = 100 * time.Millisecond
	var logs lockedBuffer
	cfg.Logger = newJSONLogger(&logs)
	sink := newBlockingSink()
	run := start(t, cfg, plainStages(), sink, nil)
	<-sink.entered

	lag := func(p string) float64 { return value(run.m.Lag.WithLabelValues(p)) }
	if !eventually(5*time.Second, func() bool { return lag("0") == n && lag("1") == n }) {
		t.Fatalf("lag while the sink is away: %v and %v, want %d each", lag("0"), lag("1"), n)
	}
	// Every record fetched and none durable: all of them are in flight.
	if !eventually(5*time.Second, func() bool { return value(run.m.InFlight) == parts*n }) {
		t.Errorf("records in flight while the sink is away: %v, want %d", value(run.m.InFlight), parts*n)
	}
	if !eventually(5*time.Second, func() bool { return strings.Contains(logs.String(), `"msg":"catching up","lag":100,`) }) {
		t.Errorf("no progress line while 100 records waited: %.600s", logs.String())
	}
	close(sink.release)
	tc.waitCommitted("g", n, 8*time.Second)
	if !eventually(5*time.Second, func() bool { return lag("0") == 0 && lag("1") == 0 }) {
		t.Fatalf("lag after recovery: %v and %v, want 0", lag("0"), lag("1"))
	}
	if !eventually(5*time.Second, func() bool { return strings.Count(logs.String(), `"msg":"caught up: no lag"`) == 1 }) {
		t.Errorf("the end of the catch-up is not logged once: %.600s", logs.String())
	}
	if got := value(run.m.InFlight); got != 0 {
		t.Errorf("records in flight once all are durable: %v, want 0", got)
	}
	if err := run.stop(t); err != nil {
		t.Fatal(err)
	}
}
