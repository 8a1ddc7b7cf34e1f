package backoff

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestWaitGrowsJitteredAndCapped(t *testing.T) {
	p := Policy{Initial: 100 * time.Millisecond, Max: time.Second}
	for attempt, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 9: time.Second} {
		for range 50 {
			if w := p.Wait(attempt); w < want/2 || w > want {
				t.Fatalf("attempt %d: wait %v outside [%v, %v]", attempt, w, want/2, want)
			}
		}
	}
}

func TestRetryCountsEachRetryAndReportsUpAndDown(t *testing.T) {
	reg := prometheus.NewRegistry()
	retries := Retries(reg)
	if Retries(reg) != retries {
		t.Fatal("a second Retries on one registry must share the collector")
	}
	var downs, ups int
	r := Retrier{Policy: Policy{Initial: time.Millisecond, Max: time.Millisecond}, Dependency: "clickhouse",
		OnRetry: Count(retries), OnDown: func(string, error) { downs++ }, OnUp: func(string) { ups++ }}
	calls := 0
	err := r.Do(context.Background(), "insert", func() error {
		if calls++; calls < 4 {
			return errors.New("connection refused")
		}
		return nil
	})
	if err != nil || calls != 4 {
		t.Fatalf("err %v after %d calls", err, calls)
	}
	if got := value(t, retries.WithLabelValues("clickhouse")); got != 3 {
		t.Fatalf("retries counted %v, want 3", got)
	}
	if downs != 3 || ups != 1 {
		t.Fatalf("downs %d ups %d", downs, ups)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Do(ctx, "insert", func() error { return errors.New("down") }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled retry: %v", err)
	}
}

func value(t *testing.T, c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// A retrier that reports to a health tracker (OnUp) leaves the recovery line to it (logged
// once per outage, not once per operation); one without logs its own recovery at info.
func TestRecoveryLineLeftToTheHealthTracker(t *testing.T) {
	for _, tracked := range []bool{false, true} {
		var buf bytes.Buffer
		r := Retrier{Policy: Policy{Initial: time.Millisecond, Max: time.Millisecond}, Dependency: "clickhouse",
			Log: slog.New(slog.NewJSONHandler(&buf, nil))}
		if tracked {
			r.OnUp = func(string) {}
		}
		calls := 0
		_ = r.Do(context.Background(), "insert", func() error {
			if calls++; calls < 3 {
				return errors.New("refused")
			}
			return nil
		})
		if got := strings.Contains(buf.String(), `"msg":"recovered"`); got == tracked {
			t.Errorf("tracked %v: recovery logged at info %v: %s", tracked, got, buf.String())
		}
	}
}
