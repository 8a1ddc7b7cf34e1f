package pipeline

import (
	"time"
)

// catchUp follows a lag that lasts, so that a long catch-up (after an outage, or a worker
// started on a backlog) logs its progress every ProgressInterval, and its end once.
type catchUp struct {
	since   time.Time // when the lag was first measured above 0; zero while there is none
	last    time.Time // the last progress line (or since)
	lastLag int64
	durable int64 // records durable at the last line
	logged  bool
}

// reportCatchUp is called with each lag measure (one goroutine: the lag loop).
func (r *Runner) reportCatchUp(lag int64, now time.Time) {
	c := &r.catchUp
	durable := r.progress.durable.Load()
	switch {
	case lag == 0:
		if c.logged {
			r.cfg.Logger.Info("caught up: no lag", "took", now.Sub(c.since).Round(time.Second).String())
		}
		*c = catchUp{}
	case c.since.IsZero():
		*c = catchUp{since: now, last: now, lastLag: lag, durable: durable}
	case now.Sub(c.last) >= r.cfg.ProgressInterval:
		secs := now.Sub(c.last).Seconds()
		perSec := float64(durable-c.durable) / secs
		drain := float64(c.lastLag-lag) / secs // the lag's fall a second; negative while it grows
		args := []any{"lag", lag, "behind_for", now.Sub(c.since).Round(time.Second).String(),
			"durable_per_second", int64(perSec), "lag_change_per_second", int64(-drain)}
		if drain > 0 {
			args = append(args, "eta", (time.Duration(float64(lag)/drain) * time.Second).Round(time.Second).String())
		}
		r.cfg.Logger.Info("catching up", args...)
		c.last, c.lastLag, c.durable, c.logged = now, lag, durable, true
	}
}
