// Package backoff is the worker's one retry policy: exponential waits with jitter, capped,
// and a Retry loop that counts every retry as it happens and logs recovery once.
//
// It promises: Retry runs op until it succeeds or ctx ends; the wait before attempt n+1 is
// a random duration in [d/2, d] with d = min(Initial·2^(n-1), Max), so many workers that lost
// the same dependency do not come back in lockstep.
package backoff

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Policy is an exponential backoff with jitter.
type Policy struct {
	Initial time.Duration // first wait (before jitter)
	Max     time.Duration // cap of every wait
}

// Default backs off from 100 ms to 5 s, the waits the sinks have always used.
var Default = Policy{Initial: 100 * time.Millisecond, Max: 5 * time.Second}

// Wait is the jittered wait after the attempt-th failure (attempt counts from 1).
func (p Policy) Wait(attempt int) time.Duration {
	d := p.Initial
	if d <= 0 {
		d = 100 * time.Millisecond
	}
	for i := 1; i < attempt && d < p.Max; i++ {
		d *= 2
	}
	if p.Max > 0 && d > p.Max {
		d = p.Max
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// Sleep waits d or until ctx ends, and says whether the full wait passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Retrier retries the operations of one dependency with one policy.
type Retrier struct {
	Policy     Policy
	Dependency string       // "clickhouse", "kafka", "identity-topic": the label of the retries metric
	Log        *slog.Logger // warns at each failure, informs once on recovery
	// OnRetry, when set, is called at each failed attempt that will be retried (the retries metric).
	OnRetry func(dependency string)
	// OnDown and OnUp, when set, report the dependency's state (readiness).
	OnDown func(dependency string, err error)
	OnUp   func(dependency string)
}

// Do runs op until it succeeds or ctx ends; what names the operation in logs and errors.
// A recovery after failures is logged once, with how long the dependency was away.
func (r Retrier) Do(ctx context.Context, what string, op func() error) error {
	var since time.Time
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil {
			if attempt > 1 && r.Log != nil {
				// With OnUp, the health tracker logs the outage's end once for every
				// component that saw it; this operation's own recovery is detail.
				level := slog.LevelInfo
				if r.OnUp != nil {
					level = slog.LevelDebug
				}
				r.Log.Log(ctx, level, "recovered", "dependency", r.Dependency, "what", what, "attempts", attempt,
					"outage", time.Since(since).Round(time.Millisecond).String())
			}
			if r.OnUp != nil {
				r.OnUp(r.Dependency)
			}
			return nil
		}
		if attempt == 1 {
			since = time.Now()
		}
		if r.OnDown != nil {
			r.OnDown(r.Dependency, err)
		}
		if r.OnRetry != nil {
			r.OnRetry(r.Dependency)
		}
		wait := r.Policy.Wait(attempt)
		if r.Log != nil {
			r.Log.Warn("failed; retrying", "dependency", r.Dependency, "what", what, "attempt", attempt,
				"wait", wait.Round(time.Millisecond).String(), "err", err)
		}
		if !Sleep(ctx, wait) {
			return fmt.Errorf("%s: %w (last error: %v)", what, ctx.Err(), err)
		}
	}
}
