package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/sourcegraph/conc"
	"github.com/sourcegraph/conc/panics"
	"github.com/sourcegraph/conc/pool"
	"github.com/sourcegraph/conc/stream"
	"github.com/wapipe/wapipe/unit"
)

// Stages are the synchronous steps the runner calls; they own no goroutines.
type Stages struct {
	// Decode fills the unit's events, invalid events or dead letter. It runs on several
	// goroutines at once; the runner keeps record order for what follows.
	Decode func(u *unit.Unit)
	// Process resolves, deduplicates and builds rows. It runs on one goroutine in record
	// order. An error is an infrastructure failure (the state store): the worker stops
	// without committing, and the records are re-read after restart.
	Process func(ctx context.Context, u *unit.Unit) error
	// Import applies a record of the replica topic (Config.Replica) on the same goroutine
	// as Process, in order with it. An error stops the worker as for Process.
	Import func(ctx context.Context, u *unit.Unit) error
	// Flush, when set, ends the batch for the state Process and Import changed, before
	// the batch goes to the sink (the worker seals it there and checkpoints it after the
	// batch is durable, in AfterDurable). Flush and AfterDurable run once per batch, in
	// batch order. An error stops the worker as for Process.
	Flush func() error
}

// Sink makes a batch durable: rows written, dead letters produced. It retries transient
// failures itself and returns an error only when ctx ends or nothing can ever succeed.
type Sink interface {
	Write(ctx context.Context, batch []*unit.Unit) error
}

// AfterDurable runs after a batch is durable and before its offsets may be committed,
// e.g. to remember dedupe keys (remembering them earlier would turn a crash into a loss).
// An error stops the worker without committing the batch.
type AfterDurable func(ctx context.Context, batch []*unit.Unit) error

// Runner wires the source, the stages and the sink.
type Runner struct {
	cfg      Config
	stages   Stages
	sink     Sink
	after    AfterDurable
	metrics  *Metrics
	src      *source
	replica  *replica // nil without Config.Replica
	running  atomic.Bool
	progress progress
	catchUp  catchUp // the lag loop's own
}

// New checks the configuration and builds a runner; Run starts it.
func New(cfg Config, st Stages, sink Sink, after AfterDurable, m *Metrics) (*Runner, error) {
	cfg, err := cfg.WithDefaults()
	if err != nil {
		return nil, err
	}
	if st.Decode == nil || st.Process == nil || sink == nil {
		return nil, errors.New("pipeline: decode, process and sink are required")
	}
	if cfg.Replica != nil && (cfg.Replica.Topic == "" || cfg.Replica.Offsets == nil || st.Import == nil) {
		return nil, errors.New("pipeline: a replica needs a topic, an offset store and an import stage")
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	return &Runner{cfg: cfg, stages: st, sink: sink, after: after, metrics: m}, nil
}

// Consuming says whether the runner is running and owns partitions (for /readyz). With a
// replica, the worker joins the group only once it has caught up with the replica topic.
func (r *Runner) Consuming() bool {
	return r.running.Load() && r.src != nil && r.src.assigned()
}

// Run consumes until ctx ends, then drains in order within ShutdownTimeout. It returns nil
// after a clean drain and the first error of any part otherwise.
func (r *Runner) Run(ctx context.Context) error {
	fetched := make(chan *unit.Record, 512)
	decoded := make(chan *unit.Unit, 512)
	batches := make(chan []*unit.Unit, 1)
	r.src = newSource(r.cfg, r.metrics, fetched)
	if r.cfg.Replica != nil {
		r.replica = newReplica(*r.cfg.Replica, r.src)
	}

	// fetchCtx stops fetching; work keeps flowing on workCtx until the drain is over.
	fetchCtx, stopFetching := context.WithCancel(context.Background())
	workCtx, stopWork := context.WithCancel(context.Background())
	defer stopFetching()
	defer stopWork()
	go func() {
		select {
		case <-ctx.Done():
			r.cfg.Logger.Info("shutting down: stop fetching, drain, flush, commit")
			stopFetching()
			sleep(workCtx, r.cfg.ShutdownTimeout)
			stopWork()
		case <-workCtx.Done():
		}
	}()

	r.progress.touch()
	r.running.Store(true)
	defer r.running.Store(false)
	p := pool.New().WithErrors().WithContext(workCtx).WithCancelOnError().WithFirstError()
	p.Go(func(wctx context.Context) error {
		defer close(fetched)
		// A failing part cancels wctx: fetching must stop too, or Run never returns.
		defer context.AfterFunc(wctx, stopFetching)()
		return r.fetch(fetchCtx)
	})
	p.Go(func(wctx context.Context) error {
		defer close(decoded)
		r.decodeLoop(wctx, fetched, decoded)
		return nil
	})
	p.Go(func(wctx context.Context) error {
		defer close(batches)
		return r.processLoop(wctx, fetchCtx, decoded, batches)
	})
	flushed := make(chan struct{})
	p.Go(func(wctx context.Context) error {
		defer close(flushed)
		return r.flushLoop(wctx, batches)
	})
	p.Go(func(wctx context.Context) error {
		r.commitLoop(wctx, flushed)
		return nil
	})
	p.Go(func(context.Context) error {
		r.lagLoop(fetchCtx) // measures while fetching; a drain is not lag
		return nil
	})
	err := p.Wait()
	stopFetching()
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return errors.New("pipeline: shutdown timed out before everything was durable; uncommitted records will be re-read")
	}
	return err
}

// fetch runs the sources that feed the pipeline: the replica first, until it has caught
// up (so that the worker resolves with what every other worker knew when it started),
// then the consumer group beside it.
func (r *Runner) fetch(ctx context.Context) error {
	if r.replica == nil {
		return r.src.run(ctx)
	}
	var wg conc.WaitGroup
	var replicaErr, err error
	replicaDone := make(chan struct{})
	wg.Go(func() {
		defer close(replicaDone)
		replicaErr = r.replica.run(ctx)
	})
	start := time.Now()
	if r.replica.waitCaughtUp(ctx, replicaDone) {
		r.cfg.Logger.Info("replica caught up; joining the consumer group", "topic", r.cfg.Replica.Topic,
			"took", time.Since(start).Round(time.Millisecond).String())
		err = r.src.run(ctx)
	}
	wg.Wait()
	return errors.Join(err, replicaErr)
}

// decodeLoop decodes on several goroutines and emits units in record order.
func (r *Runner) decodeLoop(ctx context.Context, in <-chan *unit.Record, out chan<- *unit.Unit) {
	s := stream.New().WithMaxGoroutines(r.cfg.DecodeWorkers)
	for rec := range in {
		u := &unit.Unit{Rec: rec}
		s.Go(func() stream.Callback {
			if !rec.Replica {
				r.guard("decode", u, func() { r.stages.Decode(u) })
			}
			return func() {
				select {
				case out <- u:
				case <-ctx.Done():
				}
			}
		})
	}
	s.Wait()
}

// guard turns a panic inside a stage into a dead letter for that one record, so that a
// record the code cannot handle is set aside instead of crashing the worker, which would
// read it again and crash again, forever. The stack goes to the log, with the record's
// coordinates: it helps the fix, and a dead letter's header is no place for it.
func (r *Runner) guard(stage string, u *unit.Unit, f func()) {
	rec := panics.Try(f)
	if rec == nil {
		return
	}
	u.Reject(stage, unit.ReasonPanic, fmt.Sprintf("panic: %v", rec.Value))
	r.metrics.Errors.WithLabelValues("panic").Inc()
	r.cfg.Logger.Error("a stage panicked on a record; it is dead-lettered", "stage", stage,
		"source", u.Rec.Source(), "panic", fmt.Sprint(rec.Value), "stack", string(rec.Stack))
}

// commitLoop commits durable offsets every CommitInterval until the flush loop is done
// (each partition then has committed its last durable offset as it was handed over).
func (r *Runner) commitLoop(ctx context.Context, flushed <-chan struct{}) {
	t := time.NewTicker(r.cfg.CommitInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-flushed:
			return
		case <-t.C:
			r.src.commitAll()
			if r.replica != nil {
				r.replica.commitAll()
			}
		}
	}
}
