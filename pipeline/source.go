package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/semaphore"

	"github.com/wapipe/wapipe/internal/health"
	"github.com/wapipe/wapipe/internal/kafkalog"
	"github.com/wapipe/wapipe/unit"
)

// committer stores a partition's committable offset: a group generation commits it to
// Kafka, a replica (replica.go) saves it in the worker's state.
type committer interface {
	commit(topic string, offsets map[int]int64) error
}

// generation wraps one kafka-go consumer-group generation. Commits go through it so that a
// generation that ended (a rebalance, a lost session) cannot move offsets any more.
type generation struct {
	mu  sync.Mutex
	gen *kafka.Generation
}

func (g *generation) commit(topic string, offsets map[int]int64) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.gen.CommitOffsets(map[string]map[int]int64{topic: offsets})
}

// source joins the consumer group and fetches every assigned partition into out.
type source struct {
	cfg     Config
	log     *slog.Logger
	metrics *Metrics
	out     chan<- *unit.Record
	budget  *semaphore.Weighted

	mu     sync.Mutex
	leases map[*lease]struct{}
}

func newSource(cfg Config, m *Metrics, out chan<- *unit.Record) *source {
	return &source{cfg: cfg, log: cfg.Logger, metrics: m, out: out,
		budget: semaphore.NewWeighted(cfg.recordBytes()), leases: map[*lease]struct{}{}}
}

// run takes part in the group until ctx ends. Each generation's partitions are fetched by
// goroutines that kafka-go's Generation.Start owns, so a rebalance waits for them to hand over.
func (s *source) run(ctx context.Context) error {
	group, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID: s.cfg.Group, Brokers: s.cfg.Brokers, Topics: []string{s.cfg.Topic},
		StartOffset: s.cfg.StartOffset, SessionTimeout: s.cfg.SessionTimeout,
		RebalanceTimeout: s.cfg.RebalanceTimeout, HeartbeatInterval: s.cfg.SessionTimeout / 10,
		WatchPartitionChanges: true, PartitionWatchInterval: 5 * time.Second,
		JoinGroupBackoff: time.Second, Timeout: 10 * time.Second, Dialer: s.cfg.Dialer,
		Logger: kafkalog.Debug(s.log, "group"), ErrorLogger: kafkalog.Errors(s.log, "group"),
	})
	if err != nil {
		return err
	}
	defer group.Close() // leaves the group
	for {
		kgen, err := group.Next(ctx)
		if errors.Is(err, kafka.RebalanceInProgress) && ctx.Err() == nil {
			// A rebalance, not an outage: kafka-go joins again at once and the broker paces it;
			// a backoff here would slow every rebalance and make /readyz 503 during it.
			s.metrics.Errors.WithLabelValues("group").Inc()
			s.log.Info("consumer group rebalancing", "err", err)
			continue
		}
		if err != nil && ctx.Err() == nil {
			s.metrics.Errors.WithLabelValues("group").Inc()
			err = s.retryAfter(ctx, health.Kafka, "join the consumer group", err, func() (err error) {
				kgen, err = group.Next(ctx)
				return err
			})
		}
		if ctx.Err() != nil || err != nil {
			return nil
		}
		gen := &generation{gen: kgen}
		s.metrics.Generation.Set(float64(kgen.ID))
		parts := kgen.Assignments[s.cfg.Topic]
		s.log.Info("joined generation", "generation", kgen.ID, "member", kgen.MemberID, "partitions", len(parts))
		for _, pa := range parts {
			pa := pa
			kgen.Start(func(gctx context.Context) { s.fetch(gctx, gen, pa, len(parts)) })
		}
	}
}

// fetch reads one partition from its committed offset until the generation ends, then waits
// (bounded) for its records to become durable and commits them before handing the partition over.
func (s *source) fetch(ctx context.Context, gen *generation, pa kafka.PartitionAssignment, readers int) {
	l := newLease(s.cfg.Topic, pa.ID, gen, pa.Offset)
	s.track(l, true)
	defer s.track(l, false)
	s.read(ctx, l, false, s.cfg.groupFetch(readers))
	s.handOver(l)
}

// read fetches the lease's partition from its start offset into the pipeline until ctx
// ends, each record charged to the byte budget until it is durable; what the reader holds
// before that is bounded by maxBytes (prefetch.go).
func (s *source) read(ctx context.Context, l *lease, replica bool, maxBytes int) {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: s.cfg.Brokers, Topic: l.topic, Partition: l.partition,
		MinBytes: 1, MaxBytes: maxBytes, MaxWait: s.cfg.FetchMaxWait, QueueCapacity: readerQueue, Dialer: s.cfg.Dialer,
		Logger: kafkalog.Debug(s.log, "reader"), ErrorLogger: kafkalog.Errors(s.log, "reader"),
	})
	defer r.Close()
	start, _ := l.commitPoint()
	if err := r.SetOffset(start); err != nil {
		s.log.Error("set offset", "topic", l.topic, "partition", l.partition, "offset", start, "err", err)
		return
	}
	dependency, expect := health.Kafka, start // expect: the next offset; < 0 until the first
	if replica {
		dependency = health.IdentityTopic
	}
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, kafka.ErrGenerationEnded) {
				return
			}
			s.metrics.Errors.WithLabelValues("fetch").Inc()
			what := "fetch " + l.topic + "/" + strconv.Itoa(l.partition)
			if s.retryAfter(ctx, dependency, what, err, func() (err error) {
				m, err = r.FetchMessage(ctx)
				return err
			}) != nil {
				return // ctx ended
			}
		}
		if !replica && expect >= 0 && m.Offset > expect {
			s.skipped(l, expect, m.Offset)
		}
		expect = m.Offset + 1
		if err := s.budget.Acquire(ctx, s.weigh(len(m.Value))); err != nil {
			return
		}
		l.fetched(m.Offset)
		s.metrics.InFlight.Inc()
		rec := &unit.Record{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Key: m.Key,
			Value: m.Value, Headers: m.Headers, Time: m.Time, Replica: replica, Lease: l}
		s.metrics.Consumed.Inc()
		select {
		case s.out <- rec:
		case <-ctx.Done():
			l.unfetch(m.Offset) // never entered the pipeline; the next owner re-reads it
			s.metrics.InFlight.Dec()
			s.budget.Release(s.weigh(len(m.Value)))
			return
		}
	}
}

// handOver waits for the partition's in-flight records, commits what is durable, and fences
// the lease so late acknowledgements of this generation never commit.
func (s *source) handOver(l *lease) {
	l.stop()
	select {
	case <-l.drained:
	case <-time.After(s.cfg.DrainTimeout):
		s.log.Warn("partition revoked with records in flight; the next owner re-reads them",
			"partition", l.partition, "in_flight", l.inFlight())
	}
	s.commitLease(l)
	l.revoke()
}

// done acknowledges a record made durable by the sink.
func (s *source) done(rec *unit.Record) {
	rec.Lease.Ack(rec.Offset)
	s.metrics.InFlight.Dec()
	s.budget.Release(s.weigh(len(rec.Value)))
}

// weigh charges at least one byte per record and at most the whole budget, so one body
// larger than the budget still passes alone instead of blocking forever.
func (s *source) weigh(n int) int64 {
	if int64(n) > s.cfg.recordBytes() {
		return s.cfg.recordBytes()
	}
	if n < 1 {
		return 1
	}
	return int64(n)
}

func (s *source) track(l *lease, add bool) {
	s.mu.Lock()
	if add {
		s.leases[l] = struct{}{}
	} else {
		delete(s.leases, l)
		if l.topic == s.cfg.Topic {
			s.metrics.Lag.DeleteLabelValues(strconv.Itoa(l.partition)) // another worker owns it now
		}
	}
	s.metrics.Partitions.Set(float64(len(s.leases)))
	s.mu.Unlock()
}

// assigned says whether the worker currently owns partitions.
func (s *source) assigned() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.leases) > 0
}

// commitAll commits every live lease whose durable mark moved.
func (s *source) commitAll() {
	for _, l := range leasesOf(&s.mu, s.leases) {
		s.commitLease(l)
	}
}

// leasesOf copies the leases of a map guarded by mu, so they commit without holding it.
func leasesOf[V any](mu *sync.Mutex, m map[*lease]V) []*lease {
	mu.Lock()
	defer mu.Unlock()
	out := make([]*lease, 0, len(m))
	for l := range m {
		out = append(out, l)
	}
	return out
}

func (s *source) commitLease(l *lease) {
	offset, moved := l.commitPoint()
	if !moved {
		return
	}
	if err := l.gen.commit(l.topic, map[int]int64{l.partition: offset}); err != nil {
		s.metrics.Errors.WithLabelValues("commit").Inc()
		s.log.Warn("commit", "partition", l.partition, "offset", offset, "err", err)
		return
	}
	l.markCommitted(offset)
	if l.topic == s.cfg.Topic {
		s.metrics.Committed.WithLabelValues(strconv.Itoa(l.partition)).Set(float64(offset))
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
