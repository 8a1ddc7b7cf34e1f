package pipeline

import (
	"context"
	"time"

	"github.com/wapipe/wapipe/unit"
)

// processLoop runs the sequential stage and cuts batches on rows, bytes or age.
func (r *Runner) processLoop(ctx, fetchCtx context.Context, in <-chan *unit.Unit, out chan<- []*unit.Unit) error {
	var batch []*unit.Unit
	rows, bytes := 0, 0
	started := time.Now()
	age := r.cfg.BatchAge
	tick := time.NewTicker(age / 4)
	defer tick.Stop()
	var flushErr error
	flush := func() bool {
		if len(batch) == 0 {
			return true
		}
		if r.stages.Flush != nil {
			if flushErr = r.stages.Flush(); flushErr != nil {
				r.metrics.Errors.WithLabelValues("stage").Inc()
				return false
			}
		}
		select {
		case out <- batch:
		case <-ctx.Done():
			return false
		}
		batch, rows, bytes = nil, 0, 0
		return true
	}
	for {
		select {
		case u, ok := <-in:
			if !ok {
				flush()
				return flushErr
			}
			if len(batch) == 0 {
				started = time.Now()
			}
			var err error
			stage, run := "process", r.stages.Process
			if u.Rec.Replica {
				stage, run = "import", r.stages.Import
			}
			r.guard(stage, u, func() { err = run(ctx, u) })
			if err != nil {
				r.metrics.Errors.WithLabelValues("stage").Inc()
				return err
			}
			r.metrics.Processed.Inc()
			batch = append(batch, u)
			rows += len(u.Rows)
			bytes += len(u.Rec.Value)
			if rows >= r.cfg.BatchRows || bytes >= r.cfg.BatchBytes {
				if !flush() {
					return flushErr
				}
			}
		case <-tick.C:
			// While shutting down, flush at every tick so revoked partitions drain quickly.
			if time.Since(started) >= age || fetchCtx.Err() != nil {
				if !flush() {
					return flushErr
				}
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// flushLoop makes each batch durable, then acknowledges its records.
func (r *Runner) flushLoop(ctx context.Context, in <-chan []*unit.Unit) error {
	for batch := range in {
		start := time.Now()
		if err := r.sink.Write(ctx, batch); err != nil {
			r.metrics.Errors.WithLabelValues("sink").Inc()
			return err
		}
		if r.after != nil {
			if err := r.after(ctx, batch); err != nil {
				r.metrics.Errors.WithLabelValues("after_durable").Inc()
				return err
			}
		}
		rows, replicated := 0, 0
		for _, u := range batch {
			rows += len(u.Rows)
			if u.DeadLetter != nil {
				r.deadLettered(u)
			}
			if u.Rec.Replica {
				replicated++
			}
			r.src.done(u.Rec)
		}
		r.progress.touch()
		r.progress.durable.Add(int64(len(batch) - replicated))
		r.metrics.Written.Add(float64(len(batch) - replicated))
		r.metrics.Replicated.Add(float64(replicated))
		r.metrics.BatchUnits.Observe(float64(len(batch)))
		r.metrics.BatchRows.Observe(float64(rows))
		r.metrics.FlushSecs.Observe(time.Since(start).Seconds())
	}
	return nil
}
