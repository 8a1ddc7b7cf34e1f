package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/segmentio/kafka-go"

	"github.com/wapipe/wapipe/identity"
	"github.com/wapipe/wapipe/internal/backoff"
	"github.com/wapipe/wapipe/internal/health"
	"github.com/wapipe/wapipe/pipeline"
	"github.com/wapipe/wapipe/sinks/clickhouse"
	"github.com/wapipe/wapipe/sinks/deadletter"
	"github.com/wapipe/wapipe/sinks/durable"
	"github.com/wapipe/wapipe/sinks/identitylog"
	"github.com/wapipe/wapipe/stages/decode"
	"github.com/wapipe/wapipe/stages/dedupe"
	"github.com/wapipe/wapipe/stages/process"
	"github.com/wapipe/wapipe/stages/report"
)

// tuning are the run flags beyond contract section 1.
type tuning struct {
	batchRows       int
	batchAge        time.Duration
	maxInFlightMB   int
	shutdownTimeout time.Duration
	migrate         bool
	maxBodyBytes    int
	identityTopic   string
	memoryLimitMB   int
	lastSeenStep    time.Duration
	cacheContacts   int
	dedupeKeys      int
}

func runCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var c common
	var t tuning
	c.workerFlags(fs)
	fs.IntVar(&t.batchRows, "batch-rows", 25_000, "flush to ClickHouse when a batch holds this many rows")
	fs.DurationVar(&t.batchAge, "batch-age", time.Second, "flush to ClickHouse when a batch is this old")
	fs.IntVar(&t.maxInFlightMB, "max-in-flight-mb", 32, "webhook bytes fetched and not yet durable; fetching pauses above it")
	fs.DurationVar(&t.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long SIGTERM may drain before exiting")
	fs.BoolVar(&t.migrate, "migrate", true, "apply ClickHouse migrations at start (idempotent)")
	fs.IntVar(&t.maxBodyBytes, "max-body-bytes", 3<<20, "larger bodies are dead-lettered unread (Meta sends at most 3 MB)")
	fs.DurationVar(&t.lastSeenStep, "last-seen-step", time.Minute,
		"how far identities/contact_keys last_seen may lag: a contact seen again sooner is not rewritten")
	fs.IntVar(&t.cacheContacts, "cache-contacts", 25_000,
		"contacts kept decoded in memory (about 1 KB each); the others are a Badger read away; 0: none")
	fs.IntVar(&t.dedupeKeys, "dedupe-keys", dedupe.DefaultKeys,
		"events remembered as counted (about 20 bytes each), so their redeliveries are skipped unprocessed; a forgotten one is processed again and still counted once")
	fs.IntVar(&t.memoryLimitMB, "memory-limit-mb", 384,
		"soft limit of the Go heap (runtime/debug.SetMemoryLimit): the GC works harder as the worker nears it; 0: none")
	fs.StringVar(&t.identityTopic, "identity-topic", "whatsapp.identity.{group}",
		"compacted topic through which the workers of the group share contacts and leads (created when missing); "+
			"{group} stands for --group, so that two groups (two deployments on one cluster) never mix their contacts; "+
			"empty: this worker resolves alone")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkLogLevel(c.logLevel); err != nil {
		return err
	}
	var err error
	if t.identityTopic, err = identityTopicName(t.identityTopic, c.group); err != nil {
		return err
	}
	err = runWorker(ctx, c, t, prometheus.NewRegistry())
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return nil // stopped while starting (waiting for ClickHouse): nothing to drain, a clean stop
	}
	return err
}

// runWorker runs one worker until ctx ends, with its metrics on reg (the demo reads them).
func runWorker(ctx context.Context, c common, t tuning, reg *prometheus.Registry) error {
	log := newLogger(c.logLevel)
	if t.memoryLimitMB > 0 {
		debug.SetMemoryLimit(int64(t.memoryLimitMB) << 20)
	}
	tenants, err := loadTenantMap(c.tenantMap)
	if err != nil {
		return err
	}
	start, err := startOffset(c.startOffset)
	if err != nil {
		return err
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	st := newStartup("connecting to ClickHouse")
	addr, err := serveHTTP(ctx, c.listen, reg, st.readiness, st.finder, log)
	if err != nil {
		return fmt.Errorf("listen %s: %w", c.listen, err)
	}

	ch, err := clickhouse.Open(ctx, clickhouse.Config{Addrs: split(c.clickhouse), Database: c.database, Registry: reg})
	if err != nil {
		return err
	}
	defer ch.Close()
	if t.migrate {
		st.waitingFor("ClickHouse: applying migrations")
		if err := migrateWithRetry(ctx, ch, log); err != nil {
			return err
		}
	}
	st.waitingFor("opening the state in " + c.stateDir)
	db, err := openState(c.stateDir)
	if err != nil {
		return err
	}
	defer db.Close()
	dlq, err := deadletter.New(split(c.brokers), c.dlqTopic)
	if err != nil {
		return err
	}
	defer dlq.Close()

	m := pipeline.NewMetrics(reg)
	duplicates := prometheus.NewCounter(prometheus.CounterOpts{Name: "wapipe_events_duplicate_total", Help: "Events dropped as already counted."})
	unknown := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wapipe_decode_unknown_total",
		Help: "Unknown webhook fields, message types and statuses skipped or kept, by kind."}, []string{"what"})
	reg.MustRegister(duplicates, unknown)
	seen := dedupe.New(dedupe.Config{Keys: t.dedupeKeys})
	// One Badger transaction per batch rather than per event; the pipeline flushes both
	// stores before a batch's rows go to ClickHouse.
	// --cache-contacts (25,000 by default, about 1 KB each) serve a partition's recent
	// conversations; the rest is a Badger read away, so memory does not grow with the
	// contact count.
	// last_seen may lag by --last-seen-step, so a conversation's burst writes its contact once.
	cached := t.cacheContacts
	if cached <= 0 {
		cached = -1 // identity.Config reads 0 as its own default
	}
	ids := identity.NewWithConfig(db, identity.Config{Deferred: true, CacheContacts: cached, LastSeenStep: t.lastSeenStep})
	dec := decode.New(decode.Config{TenantOf: tenants.of,
		OnUnknown: func(what, _ string) { unknown.WithLabelValues(what).Inc() }})
	self, err := workerID(db)
	if err != nil {
		return fmt.Errorf("worker id in %s: %w", c.stateDir, err)
	}
	reports, err := report.New(db, report.Config{AttributionWindow: c.attributionWindow, Deferred: true})
	if err != nil {
		return err
	}
	proc := &process.Stage{Seen: seen, Identities: ids, Reports: reports, Duplicates: duplicates.Inc, Self: self}
	deps := &health.Deps{} // what /readyz names as down
	retries := backoff.Retries(reg)
	sink := durable.New(ch, dlq, log).Observe(retries, deps)

	cfg := pipeline.Config{
		Brokers: split(c.brokers), Topic: c.topic, Group: c.group, StartOffset: start,
		BatchRows: t.batchRows, BatchAge: t.batchAge, MaxInFlightBytes: int64(t.maxInFlightMB) << 20,
		ShutdownTimeout: t.shutdownTimeout, Logger: log,
	}
	var publish *identitylog.Publisher
	if t.identityTopic != "" {
		cfg.Replica = &pipeline.ReplicaConfig{Topic: t.identityTopic, Offsets: stateOffsets{db}}
		if publish, err = identitylog.New(split(c.brokers), t.identityTopic, self, ids, reports, log); err != nil {
			return err
		}
		publish.Retries = retries
		defer publish.Close()
	}
	st.waitingFor("rewriting the rows of contacts a stop left behind")
	if err := heal(ctx, proc, ids, sink, publish, log); err != nil {
		return err
	}
	erase := eraseAgain{ch: ch, log: log, retries: retries}
	st.waitingFor("repeating in ClickHouse the erasures a stop left behind")
	if err := erase.resume(ctx, ids); err != nil {
		return err
	}
	runner, err := pipeline.New(cfg, pipeline.Stages{Decode: decodeStage(dec, t.maxBodyBytes), Process: proc.Process, Import: proc.Import, Flush: proc.Flush},
		sink, afterDurable(publish, seen, proc, erase), m)
	if err != nil {
		return err
	}
	ready := func(rctx context.Context) error {
		if !runner.Consuming() {
			return errors.New("not consuming: no partitions assigned yet")
		}
		if down := deps.Down(); len(down) > 0 {
			return &health.NotReady{Reason: "dependencies down", Down: down}
		}
		if !sink.Healthy() {
			return errors.New("writes are failing and being retried")
		}
		return ch.Ping(rctx)
	}
	st.up(ready, lookupIn(ids))
	log.Info("wapipe worker started", "worker", self, "identity_topic", t.identityTopic, "brokers", c.brokers, "topic", c.topic, "group", c.group,
		"clickhouse", c.clickhouse, "database", c.database, "state_dir", c.stateDir, "http", addr)
	err = runner.Run(ctx)
	log.Info("wapipe worker stopped", "err", err)
	return err
}

// decodeStage adapts the decoder to the pipeline: a body that cannot be used at all is
// dead-lettered whole; invalid events are handled by the process stage.
func decodeStage(dec *decode.Decoder, maxBody int) func(u *pipeline.Unit) {
	return func(u *pipeline.Unit) {
		if maxBody > 0 && len(u.Rec.Value) > maxBody {
			u.Reject("decode", fmt.Sprintf("body of %d bytes is over the %d-byte limit (Meta sends at most 3 MB)", len(u.Rec.Value), maxBody))
			return
		}
		events, invalid, err := dec.DecodeOwned(u.Rec.Value) // the record owns its value (kafka-go allocates each)
		if err != nil {
			u.Reject("decode", err.Error())
			return
		}
		u.Events, u.Invalid = events, invalid
	}
}

// afterDurable publishes the batch's identity and lead snapshots, remembers its dedupe keys
// (not those of dead letters: sent again after their cause is removed, they are processed),
// and last drops the batch's record of changed contacts: until then a crash makes the
// next start rewrite and republish those contacts (heal), whatever a replay skips. Then the
// contacts the batch erased are erased in ClickHouse again (wapipe forget).
func afterDurable(publish *identitylog.Publisher, seen *dedupe.Set, proc *process.Stage, erase eraseAgain) pipeline.AfterDurable {
	return func(ctx context.Context, batch []*pipeline.Unit) error {
		if publish != nil {
			if err := publish.Publish(ctx, batch); err != nil {
				return err
			}
		}
		var keys, dead []dedupe.Key
		for _, u := range batch {
			if u.DeadLetter != nil {
				dead = append(dead, u.Seen...)
			} else {
				keys = append(keys, u.Seen...)
			}
		}
		seen.Remember(keys)
		seen.Forget(dead)
		if err := proc.Durable(); err != nil {
			return err
		}
		return erase.durable(ctx, proc)
	}
}

// heal writes, before anything is processed, the rows (and snapshots) of the contacts
// whose last batch a crash cut off after the stores committed it (process.Stage.Heal).
func heal(ctx context.Context, proc *process.Stage, ids *identity.Store, sink *durable.Sink, publish *identitylog.Publisher, log *slog.Logger) error {
	rows, refs, err := proc.Heal()
	if err != nil || len(rows) == 0 {
		return err
	}
	batch := []*pipeline.Unit{{Rec: &pipeline.Record{Topic: "wapipe-restart"}, Rows: rows}}
	if err := sink.Write(ctx, batch); err != nil {
		return fmt.Errorf("heal: %w", err)
	}
	if publish != nil {
		if err := publish.Publish(ctx, batch); err != nil {
			return err
		}
	}
	log.Info("rewrote the rows of contacts a stop left behind", "contacts", len(refs), "rows", len(rows))
	return ids.ForgetDirty()
}

// migrateWithRetry applies migrations, waiting for ClickHouse to come up (as it may in a
// fresh deployment where the worker starts first) for as long as it takes, as the worker
// waits for it mid-stream; /readyz says what it waits for. Errors that waiting cannot cure
// (a bad migration, refused credentials) end the worker.
func migrateWithRetry(ctx context.Context, ch *clickhouse.Client, log *slog.Logger) error {
	wait := time.Second
	for attempt := 1; ; attempt++ {
		applied, err := ch.Migrate(ctx)
		if err == nil {
			if len(applied) > 0 {
				log.Info("migrations applied", "versions", applied)
			}
			return nil
		}
		if !clickhouse.IsTransient(err) {
			return fmt.Errorf("migrate: %w", err)
		}
		log.Warn("ClickHouse not ready; retrying migrations", "attempt", attempt, "err", err)
		sleepCtx(ctx, wait)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait = min(2*wait, 10*time.Second)
	}
}

func startOffset(s string) (int64, error) {
	switch s {
	case "earliest", "":
		return kafka.FirstOffset, nil
	case "latest":
		return kafka.LastOffset, nil
	}
	return 0, fmt.Errorf("--start-offset %q: want earliest or latest", s)
}

// checkLogLevel refuses a --log-level that newLogger would not understand.
func checkLogLevel(level string) error {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	return nil
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
