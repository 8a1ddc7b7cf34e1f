package pipeline

import (
	"sync/atomic"
	"time"
)

// progress is what a stall detector needs: when records last became durable, and how much
// input waits (the lag last measured). A stall is input waiting and no acknowledgement for
// long: the symptom of a stuck worker, which a restart cures, unlike a dependency that is
// away (which the caller tells apart by the dependencies down).
type progress struct {
	last atomic.Int64 // unix nanoseconds of the last acknowledgement, or of the last moment nothing waited
	lag  atomic.Int64 // records behind the end of the owned partitions, at the last measure
	// durable counts input records made durable (the catch-up progress lines' rate).
	durable atomic.Int64
}

func (p *progress) touch() { p.last.Store(time.Now().UnixNano()) }

// Stalled says how long input has waited without any record becoming durable, and whether
// that is over after. Nothing waiting (no lag, nothing in flight) is never a stall.
func (r *Runner) Stalled(after time.Duration) (time.Duration, bool) {
	if !r.running.Load() || r.src == nil {
		return 0, false
	}
	if !r.waiting() {
		r.progress.touch()
		return 0, false
	}
	idle := time.Since(time.Unix(0, r.progress.last.Load()))
	return idle, idle > after
}

// waiting says whether input waits: records in flight or a lag behind the partitions' end.
func (r *Runner) waiting() bool {
	if r.progress.lag.Load() > 0 {
		return true
	}
	for _, l := range leasesOf(&r.src.mu, r.src.leases) {
		if l.inFlight() > 0 {
			return true
		}
	}
	return false
}
