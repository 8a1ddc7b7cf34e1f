package pipeline

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wapipe/wapipe/unit"
)

// syncBuffer is a log destination the runner's goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// explode is the stage bug: it panics on one record.
func explode(u *unit.Unit) {
	if strings.HasPrefix(string(u.Rec.Value), "boom") {
		var m map[string]int
		m["x"]++ // assignment to entry in nil map
	}
}

// A record that crashes a stage does not crash the worker (which would re-read it and crash
// again, forever): it is dead-lettered with "panic: ..." as its reason, the stack goes to
// the log (with the record's coordinates), not into the dead letter's header, and the
// records behind it are processed and committed.
func TestPanickingRecordIsDeadLetteredAndTheWorkerGoesOn(t *testing.T) {
	const n = 10
	tc := newTestCluster(t, 1)
	tc.fill(n, 10, func(_, i int) string {
		if i == 4 {
			return "boom"
		}
		return "ok"
	})
	logs := &syncBuffer{}
	cfg := tc.config("g")
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	st := plainStages()
	st.Process = func(_ context.Context, u *unit.Unit) error { explode(u); return nil }
	d := newDurable()
	run := start(t, cfg, st, okSink(), d.after)
	tc.waitCommitted("g", n, 8*time.Second)
	if err := run.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	d.check(t, 1, n, true)
	u := d.units[key{0, 4}]
	if u == nil || u.DeadLetter == nil || u.DeadLetter.Stage != "process" ||
		u.DeadLetter.Reason != "panic: assignment to entry in nil map" {
		t.Fatalf("the panicking record: %+v, want a dead letter from process with the panic as its reason", u)
	}
	log := logs.String()
	if !strings.Contains(log, "in/0/4") || !strings.Contains(log, "pipeline.explode") {
		t.Errorf("the log does not name the record and the panic's stack:\n%s", log)
	}
}
