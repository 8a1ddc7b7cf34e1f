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

	"github.com/wapipe/wapipe/gateway"
	"github.com/wapipe/wapipe/identity"
	"github.com/wapipe/wapipe/internal/backoff"
	"github.com/wapipe/wapipe/internal/connect"
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
	"github.com/wapipe/wapipe/state"
	"github.com/wapipe/wapipe/unit"
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
	stallTimeout    time.Duration
	layout          layoutFlags // for the migrations at start
}

func runCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var c common
	var t tuning
	c.workerFlags(fs)
	t.layout.register(fs)
	def := pipeline.Defaults
	fs.IntVar(&t.batchRows, "batch-rows", def.BatchRows, "flush to ClickHouse when a batch holds this many rows")
	fs.DurationVar(&t.batchAge, "batch-age", def.BatchAge, "flush to ClickHouse when a batch is this old")
	fs.IntVar(&t.maxInFlightMB, "max-in-flight-mb", int(def.MaxInFlightBytes>>20), "webhook bytes fetched and not yet durable; fetching pauses above it")
	fs.DurationVar(&t.shutdownTimeout, "shutdown-timeout", def.ShutdownTimeout, "how long SIGTERM may drain before exiting")
	fs.DurationVar(&t.stallTimeout, "stall-timeout", time.Minute,
		"/healthz answers 503 when input has waited this long with no record made durable and no dependency down (a stuck worker)")
	fs.BoolVar(&t.migrate, "migrate", true, "apply ClickHouse migrations at start (idempotent)")
	fs.IntVar(&t.maxBodyBytes, "max-body-bytes", gateway.DefaultMaxBodyBytes, "larger bodies are dead-lettered unread (Meta sends at most 3 MB)")
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
	token, err := connect.ReadSecret(c.apiToken, c.apiTokenFile, "api-token")
	if err != nil {
		return err
	}
	deps := &health.Deps{Log: log} // what /readyz names as down, from the first moment; recoveries logged once
	retries := backoff.Retries(reg)
	st := newStartup("connecting to ClickHouse", deps)
	// Components start in order and stop in reverse (the defers below): the HTTP server
	// starts first and stops last, so /metrics and /healthz answer while the worker drains.
	httpCtx, stopHTTP := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHTTP()
	addr, err := serveHTTP(httpCtx, c.listen, reg, st.readiness, st.liveness, st.finder, apiAccess{token: token, pprof: c.pprof}, log)
	if err != nil {
		return fmt.Errorf("listen %s: %w", c.listen, err)
	}

	chConfig, err := c.clickhouseConfig(log)
	if err != nil {
		return err
	}
	chConfig.Registry, chConfig.Layout = reg, t.layout.layout()
	ch, err := clickhouse.Open(ctx, chConfig)
	if err != nil {
		return err
	}
	defer ch.Close()
	if t.migrate {
		st.waitingFor("ClickHouse: applying migrations")
		if err := migrateWithRetry(ctx, ch, backoff.Retrier{Policy: migrateBackoff, Dependency: health.ClickHouse, Log: log,
			OnRetry: backoff.Count(retries), OnDown: deps.SetDown, OnUp: deps.SetUp}); err != nil {
			return err
		}
	}
	st.waitingFor("opening the state in " + c.stateDir)
	db, err := openOrRebuildState(c.stateDir, log)
	if err != nil {
		return err
	}
	defer db.Close()
	link, err := c.kafkaLink(log)
	if err != nil {
		return err
	}
	dlq, err := deadletter.New(split(c.brokers), c.dlqTopic, link.Transport)
	if err != nil {
		return err
	}
	dlq.Log(log)
	defer dlq.Close()

	m := pipeline.NewMetrics(reg)
	seen := dedupe.New(dedupe.Config{Keys: t.dedupeKeys})
	// Both stores keep their state in one state (package state): a batch's changes in memory
	// until proc.Flush checkpoints them to Badger in one write, with the record of the
	// contacts they changed, before the batch's rows go to ClickHouse; proc.Durable drops
	// that record once they are durable, and heal rewrites what a crash left recorded.
	// --cache-contacts (25,000 by default, about 1 KB each) serve a partition's recent
	// conversations; the rest is a Badger read away, so memory does not grow with the
	// contact count.
	// last_seen may lag by --last-seen-step, so a conversation's burst writes its contact once.
	cached := t.cacheContacts
	if cached <= 0 {
		cached = -1 // identity.Config reads 0 as its own default
	}
	local := state.Open(db)
	ids := identity.NewWithConfig(db, identity.Config{State: local, CacheContacts: cached, LastSeenStep: t.lastSeenStep})
	dec := decode.New(decode.Config{TenantOf: tenants.of,
		OnUnknown: decode.CountUnknown(reg)})
	self, err := workerID(db)
	if err != nil {
		return fmt.Errorf("worker id in %s: %w", c.stateDir, err)
	}
	reports, err := report.New(db, report.Config{AttributionWindow: c.attributionWindow, State: local})
	if err != nil {
		return err
	}
	proc := &process.Stage{Seen: seen, Identities: ids, Reports: reports, State: local, Duplicates: process.CountDuplicates(reg), Self: self}
	sink := durable.New(ch, dlq, log).Observe(retries, deps)

	cfg := pipeline.Config{
		Brokers: split(c.brokers), Topic: c.topic, Group: c.group, StartOffset: start,
		BatchRows: t.batchRows, BatchAge: t.batchAge, MaxInFlightBytes: int64(t.maxInFlightMB) << 20,
		ShutdownTimeout: t.shutdownTimeout, Logger: log, Dialer: link.Dialer, Transport: link.Transport, Health: deps,
	}
	var publish *identitylog.Publisher
	if t.identityTopic != "" {
		cfg.Replica = &pipeline.ReplicaConfig{Topic: t.identityTopic, Offsets: stateOffsets{db}}
		if publish, err = identitylog.New(split(c.brokers), link.Transport, t.identityTopic, self, ids, reports, log); err != nil {
			return err
		}
		publish.Retries, publish.Health = retries, deps
		defer publish.Close()
	}
	erase := eraseAgain{ch: ch, log: log, retries: retries}
	st.waitingFor("rewriting the rows of contacts a stop left behind")
	if err := heal(ctx, proc, ids, sink, publish, erase, log); err != nil {
		return err
	}
	runner, err := pipeline.New(cfg, pipeline.Stages{Decode: decodeStage(dec, t.maxBodyBytes), Process: proc.Process, Import: proc.Import, Flush: proc.Flush},
		sink, afterDurable(publish, seen, proc, erase, func() error { return syncState(db, c.stateDir) }), m)
	if err != nil {
		return err
	}
	ready := func(rctx context.Context) error {
		if ctx.Err() != nil {
			return errors.New("shutting down: draining the records in flight")
		}
		if down := deps.Down(); len(down) > 0 { // first: a Kafka outage also ends the assignment
			return &health.NotReady{Reason: "dependencies down", Down: down}
		}
		if !runner.Consuming() {
			return errors.New("not consuming: no partitions assigned yet")
		}
		if !sink.Healthy() {
			return errors.New("writes are failing and being retried")
		}
		return ch.Ping(rctx)
	}
	st.up(ready, stallCheck(runner, deps, sink, t.stallTimeout), lookupIn(ids))
	log.Info("wapipe worker started", "worker", self, "identity_topic", t.identityTopic, "brokers", c.brokers, "kafka_security", link.Secured, "topic", c.topic, "group", c.group,
		"clickhouse", c.clickhouse, "database", c.database, "state_dir", c.stateDir, "http", addr)
	err = runner.Run(ctx)
	log.Info("wapipe worker stopped", "err", err)
	return err
}

// decodeStage adapts the decoder to the pipeline: a body that cannot be used at all is
// dead-lettered whole; invalid events are handled by the process stage.
func decodeStage(dec *decode.Decoder, maxBody int) func(u *unit.Unit) {
	return func(u *unit.Unit) {
		if maxBody > 0 && len(u.Rec.Value) > maxBody {
			u.Reject("decode", unit.ReasonBodyTooLarge, fmt.Sprintf("body of %d bytes is over the %d-byte limit (Meta sends at most 3 MB)", len(u.Rec.Value), maxBody))
			return
		}
		events, invalid, err := dec.DecodeOwned(u.Rec.Value) // the record owns its value (kafka-go allocates each)
		if err != nil {
			u.Reject("decode", decodeReason(err), err.Error())
			return
		}
		u.Events, u.Invalid = events, invalid
	}
}

// decodeReason maps a decode error to the bounded reason of its dead letter.
func decodeReason(err error) unit.Reason {
	var be *decode.BodyError
	if !errors.As(err, &be) {
		return unit.ReasonOther
	}
	switch be.Kind {
	case decode.KindNotUTF8:
		return unit.ReasonNotUTF8
	case decode.KindNotJSON:
		return unit.ReasonNotJSON
	case decode.KindNotWhatsApp:
		return unit.ReasonNotWhatsApp
	}
	return unit.ReasonOther
}

// afterDurable publishes the batch's identity and lead snapshots, remembers its dedupe keys
// (not those of dead letters: sent again after their cause is removed, they are processed),
// drops the batch's record of changed contacts (until then a crash makes the next start
// rewrite and republish those contacts: heal), and last syncs the state to disk, so that
// it is never behind the offsets committed after it (statesync.go). Before the record is
// dropped, the contacts the batch erased are erased in ClickHouse again (wapipe forget); a
// crash before that repeats it at start (heal).
func afterDurable(publish *identitylog.Publisher, seen *dedupe.Set, proc *process.Stage, erase eraseAgain, syncState func() error) pipeline.AfterDurable {
	return func(ctx context.Context, batch []*unit.Unit) error {
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
		if err := erase.durable(ctx, proc); err != nil {
			return err
		}
		if err := proc.Durable(); err != nil {
			return err
		}
		// Last, and once a batch: the batch's offsets may be committed as soon as this returns.
		return syncState()
	}
}

// heal writes, before anything is processed, the rows (and snapshots) of the contacts
// whose last batch a crash cut off after the state was checkpointed (process.Stage.Heal).
func heal(ctx context.Context, proc *process.Stage, ids *identity.Store, sink *durable.Sink, publish *identitylog.Publisher,
	erase eraseAgain, log *slog.Logger) error {
	rows, refs, err := proc.Heal()
	if err != nil || len(rows) == 0 {
		return err
	}
	batch := []*unit.Unit{{Rec: &unit.Record{Topic: "wapipe-restart"}, Rows: rows}}
	if err := sink.Write(ctx, batch); err != nil {
		return fmt.Errorf("heal: %w", err)
	}
	if publish != nil {
		if err := publish.Publish(ctx, batch); err != nil {
			return err
		}
	}
	log.Info("rewrote the rows of contacts a stop left behind", "contacts", len(refs), "rows", len(rows))
	// A forgotten contact among them: the stop may have come before the batch's second
	// ClickHouse erasure (afterDurable), so it runs now.
	if erased := erasedOf(ids, refs); len(erased) > 0 {
		if err := erase.run(ctx, erased); err != nil {
			return err
		}
	}
	if err := proc.Durable(); err != nil {
		return err
	}
	return ids.ForgetDirty()
}

// erasedOf returns the contacts of refs that an erasure reached (wapipe forget).
func erasedOf(ids *identity.Store, refs []identity.ContactRef) []identity.ContactRef {
	var out []identity.ContactRef
	for _, r := range refs {
		if c, ok, err := ids.Contact(r.Tenant, r.ID); err == nil && ok && c.Erased > 0 {
			out = append(out, r)
		}
	}
	return out
}

// migrateBackoff waits longer than the sinks' policy: a ClickHouse that is starting takes
// seconds, and migrations are not on the path of any record.
var migrateBackoff = backoff.Policy{Initial: time.Second, Max: 10 * time.Second}

// migrateWithRetry applies migrations, waiting for ClickHouse to come up (as it may in a
// fresh deployment where the worker starts first) for as long as it takes, as the worker
// waits for it mid-stream, with the one backoff policy (each retry counted, ClickHouse
// reported down to /readyz with the last error, a refused login too). Errors that waiting
// cannot cure (a bad migration) end the worker.
func migrateWithRetry(ctx context.Context, ch *clickhouse.Client, retry backoff.Retrier) error {
	var applied []string
	var fatal error
	err := retry.Do(ctx, "apply migrations", func() (err error) {
		applied, err = ch.Migrate(ctx)
		if err != nil && !clickhouse.IsTransient(err) {
			fatal, err = err, nil // waiting cannot cure it: stop retrying
		}
		return connect.Explain("clickhouse", err) // a refused login named: it may be fixed meanwhile
	})
	switch {
	case fatal != nil:
		return fmt.Errorf("migrate: %w", fatal)
	case err != nil:
		return ctx.Err()
	case len(applied) > 0 && retry.Log != nil:
		retry.Log.Info("migrations applied", "versions", applied)
	}
	return nil
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
