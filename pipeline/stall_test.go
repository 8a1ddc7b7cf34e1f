package pipeline

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/wapipe/wapipe/internal/health"
	"github.com/wapipe/wapipe/unit"
)

// A stall is input waiting with no acknowledgement for longer than the threshold: a
// worker idle on an empty topic never stalls, one whose sink holds every batch does, and
// it is no longer stalled once records become durable again.
func TestStallIsInputWaitingWithoutProgress(t *testing.T) {
	const threshold = 500 * time.Millisecond
	tc := newTestCluster(t, 1)
	cfg := tc.config("g")
	cfg.LagInterval = 20 * time.Millisecond
	sink := newBlockingSink()
	run := start(t, cfg, plainStages(), sink, nil)
	if !eventually(5*time.Second, run.r.Consuming) {
		t.Fatal("never consumed")
	}
	time.Sleep(3 * threshold)
	if idle, stalled := run.r.Stalled(threshold); stalled {
		t.Fatalf("stalled after %v on an empty topic", idle)
	}

	tc.fill(5, 10, func(p, i int) string { return "v" })
	<-sink.entered
	// Idle time counts from when input arrived, not from the start (3 thresholds ago).
	if idle, _ := run.r.Stalled(threshold); idle >= 3*threshold {
		t.Fatalf("input waited %v as soon as it arrived: the idle time before it counted", idle)
	}
	if !eventually(5*time.Second, func() bool { _, s := run.r.Stalled(threshold); return s }) {
		t.Fatal("not stalled while the sink held every batch")
	}
	close(sink.release)
	tc.waitCommitted("g", 5, 8*time.Second)
	if idle, stalled := run.r.Stalled(threshold); stalled {
		t.Errorf("still stalled (%v) once everything was durable", idle)
	}
}

// The identity topic deleted under a running worker: it is reported down (so /readyz names
// identity-topic) instead of the worker reading as ready while it resolves alone.
func TestDeletedIdentityTopicIsReportedDown(t *testing.T) {
	tc := newTestCluster(t, 1)
	tc.fillReplica(3)
	tc.fill(2, 10, func(p, i int) string { return "v" })
	cfg := tc.config("g")
	cfg.LagInterval = 20 * time.Millisecond
	cfg.Replica = &ReplicaConfig{Topic: replicaTopic, Offsets: &memOffsets{}}
	deps := &health.Deps{}
	cfg.Health = deps
	st := plainStages()
	st.Import = func(context.Context, *unit.Unit) error { return nil }
	run := start(t, cfg, st, okSink(), nil)
	tc.waitCommitted("g", 2, 8*time.Second)
	if down := deps.Down(); len(down) != 0 {
		t.Fatalf("down before the topic was deleted: %+v", down)
	}

	req := kmsg.NewPtrDeleteTopicsRequest()
	req.TopicNames = []string{replicaTopic}
	rt := kmsg.NewDeleteTopicsRequestTopic()
	rt.Topic = kmsg.StringPtr(replicaTopic)
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 5000
	if _, err := req.RequestWith(context.Background(), tc.produce); err != nil {
		t.Fatal(err)
	}
	named := func() bool {
		for _, o := range deps.Down() {
			if o.Dependency == health.IdentityTopic {
				return true
			}
		}
		return false
	}
	if !eventually(10*time.Second, named) {
		t.Errorf("identity topic deleted, but down is %+v", deps.Down())
	}
	_ = run
}
