package pipeline

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wapipe/wapipe/unit"
)

// An infrastructure error in a stage, the state flush or AfterDurable stops the worker:
// Run returns it (instead of hanging) and nothing of the failed record is committed.
func TestFailingPartStopsWorkerWithoutCommitting(t *testing.T) {
	boom := errors.New("state store down")
	for _, part := range []string{"process", "flush", "after_durable"} {
		t.Run(part, func(t *testing.T) {
			tc := newTestCluster(t, 1)
			tc.fill(5, 10, func(p, i int) string { return "v" })
			st := plainStages()
			var after AfterDurable
			switch part {
			case "process":
				st.Process = func(context.Context, *unit.Unit) error { return boom }
			case "flush":
				st.Flush = func() error { return boom }
			case "after_durable":
				after = func(context.Context, []*unit.Unit) error { return boom }
			}
			cfg := tc.config("g")
			cfg.DrainTimeout = 300 * time.Millisecond // the records in flight never become durable
			run := start(t, cfg, st, okSink(), after)
			select {
			case err := <-run.done:
				run.done <- err
				if !errors.Is(err, boom) {
					t.Fatalf("Run returned %v, want %v", err, boom)
				}
			case <-time.After(8 * time.Second):
				t.Fatal("Run did not stop after the failure")
			}
			if got := tc.committed("g")[0]; got > 0 {
				t.Errorf("committed %d after the failure", got)
			}
			where := map[string]string{"process": "stage", "flush": "stage", "after_durable": "after_durable"}[part]
			if got := value(run.m.Errors.WithLabelValues(where)); got != 1 {
				t.Errorf("errors{where=%s} = %v, want 1", where, got)
			}
		})
	}
}

func TestNewRejectsIncompleteConfig(t *testing.T) {
	cfg := Config{Brokers: []string{"x:9092"}, Topic: "t", Group: "g"}
	if _, err := New(Config{}, plainStages(), okSink(), nil, nil); err == nil {
		t.Error("no brokers, topic or group: want an error")
	}
	if _, err := New(cfg, Stages{}, okSink(), nil, nil); err == nil {
		t.Error("no stages: want an error")
	}
	if _, err := New(cfg, plainStages(), nil, nil, nil); err == nil {
		t.Error("no sink: want an error")
	}
	cfg.Replica = &ReplicaConfig{Topic: "ids"}
	if _, err := New(cfg, plainStages(), okSink(), nil, nil); err == nil {
		t.Error("replica without offsets or import: want an error")
	}
}
