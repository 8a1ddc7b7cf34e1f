package pipeline

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/unit"
)

// A sink that fails transiently (and retries, as Sink requires) holds the commit point at
// its batch while it fails; afterwards every record is durable once and committed to the end.
func TestTransientSinkFailureHoldsCommitsThenCatchesUp(t *testing.T) {
	const parts, n = 2, 50
	tc := newTestCluster(t, parts)
	tc.fill(n, 10, func(p, i int) string { return "v" })
	d := newDurable()

	var failing atomic.Bool
	var mu sync.Mutex
	var heldAt map[int]int64 // first offset per partition of the batch that fails
	attempts := 0
	sink := sinkFunc(func(ctx context.Context, batch []*unit.Unit) error {
		mu.Lock()
		defer mu.Unlock()
		if heldAt != nil {
			return nil
		}
		heldAt = map[int]int64{}
		for _, u := range batch {
			if o, ok := heldAt[u.Rec.Partition]; !ok || u.Rec.Offset < o {
				heldAt[u.Rec.Partition] = u.Rec.Offset
			}
		}
		failing.Store(true)
		defer failing.Store(false)
		for attempts = 1; attempts <= 3; attempts++ {
			// A failed attempt: check nothing past the batch is committed while it fails.
			time.Sleep(100 * time.Millisecond)
			for p, off := range tc.committed("g") {
				if h, ok := heldAt[p]; ok && off > h {
					t.Errorf("attempt %d: partition %d committed at %d past the failing batch at %d", attempts, p, off, h)
				}
			}
		}
		return nil
	})
	run := start(t, tc.config("g"), plainStages(), sink, d.after)
	tc.waitCommitted("g", n, 8*time.Second)
	if err := run.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	d.check(t, parts, n, true)
	if heldAt == nil {
		t.Fatal("the sink never failed")
	}
	if got := value(run.m.Written); got != parts*n {
		t.Errorf("durable metric %v, want %d", got, parts*n)
	}
}

// A sink that gives up (an error that can never succeed) stops the worker: Run returns
// the error and nothing of the failed batch is committed.
func TestSinkErrorStopsWithoutCommitting(t *testing.T) {
	tc := newTestCluster(t, 1)
	tc.fill(20, 10, func(p, i int) string { return "v" })
	boom := errors.New("table is gone")
	calls := 0
	sink := sinkFunc(func(ctx context.Context, batch []*unit.Unit) error {
		calls++
		if calls == 1 {
			return nil // the first batch is durable
		}
		return boom
	})
	cfg := tc.config("g")
	cfg.BatchRows = 1 // one record per batch: the first is durable, the second fails
	cfg.DrainTimeout = 300 * time.Millisecond
	st := plainStages()
	st.Process = func(_ context.Context, u *unit.Unit) error { u.Rows = make([]model.Row, 1); return nil }
	run := start(t, cfg, st, sink, nil)
	var err error
	select {
	case err = <-run.done:
		run.done <- err
	case <-time.After(8 * time.Second):
		t.Fatal("Run did not stop after the sink failed")
	}
	if !errors.Is(err, boom) {
		t.Fatalf("Run returned %v, want the sink's error", err)
	}
	if got := tc.committed("g")[0]; got > 1 {
		t.Errorf("committed %d past the failed batch at offset 1", got)
	}
	if got := value(run.m.Errors.WithLabelValues("sink")); got != 1 {
		t.Errorf("sink errors %v, want 1", got)
	}
}

// Rejected units (dead letters) are durable like any other: they reach AfterDurable with
// DeadLetter set and their offsets are committed. Each is counted by stage and bounded
// reason, and logged at warn with its source, stage and reason, never its body.
func TestRejectedUnitsAreDurableAndCommitted(t *testing.T) {
	const parts, n = 2, 30
	tc := newTestCluster(t, parts)
	tc.fill(n, 10, func(p, i int) string {
		switch i % 3 {
		case 0:
			return "bad-BODY-SECRET"
		case 1:
			return "panic-BODY-SECRET"
		}
		return "ok"
	})
	d := newDurable()
	st := Stages{
		Decode: func(u *unit.Unit) {
			if strings.HasPrefix(string(u.Rec.Value), "bad") {
				u.Reject("decode", unit.ReasonNotJSON, "not json")
				u.Reject("decode", unit.Reason("free text, not a reason"), "and something else")
			}
		},
		Process: func(_ context.Context, u *unit.Unit) error {
			if strings.HasPrefix(string(u.Rec.Value), "panic") {
				panic("stage bug")
			}
			return nil
		},
	}
	var logs lockedBuffer
	cfg := tc.config("g")
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	run := start(t, cfg, st, okSink(), d.after)
	tc.waitCommitted("g", n, 8*time.Second)
	if err := run.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	d.check(t, parts, n, true)
	for k, u := range d.units {
		var want string
		switch k.off % 3 {
		case 0:
			want = "decode"
		case 1:
			want = "process"
		}
		switch {
		case want == "" && u.DeadLetter != nil:
			t.Errorf("%v: unexpected dead letter %+v", k, *u.DeadLetter)
		case want != "" && (u.DeadLetter == nil || u.DeadLetter.Stage != want):
			t.Errorf("%v: dead letter %+v, want stage %s", k, u.DeadLetter, want)
		}
	}
	if got := value(run.m.DeadLetter); got != 2*parts*n/3 {
		t.Errorf("dead letter metric %v, want %d", got, 2*parts*n/3)
	}
	for _, c := range []struct{ stage, reason string }{{"decode", "not_json"}, {"process", "panic"}} {
		if got := value(run.m.DeadLetters.WithLabelValues(c.stage, c.reason)); got != parts*n/3 {
			t.Errorf("wapipe_dead_letters_total{%s,%s} = %v, want %d", c.stage, c.reason, got, parts*n/3)
		}
	}
	if got := value(run.m.DeadLetters.WithLabelValues("decode", "other")); got != 0 {
		t.Errorf("a second rejection's free text became a reason label (%v)", got)
	}
	text := logs.String()
	if got := strings.Count(text, `"msg":"dead letter"`); got != 2*parts*n/3 {
		t.Errorf("%d dead letters logged, want %d", got, 2*parts*n/3)
	}
	if !strings.Contains(text, `"level":"WARN","msg":"dead letter","source":"in/0/0","stage":"decode","reason":"not_json"`) {
		t.Errorf("the dead letter of in/0/0 is not logged at warn with source, stage and reason:\n%.600s", text)
	}
	if strings.Contains(text, "BODY-SECRET") {
		t.Error("a body was logged")
	}
}

// lockedBuffer is a log destination the runner's goroutines share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newJSONLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

// contains says whether s holds every one of subs.
func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
