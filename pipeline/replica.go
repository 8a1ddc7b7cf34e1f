package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sourcegraph/conc"

	"github.com/wapipe/wapipe/internal/connect"
	"github.com/wapipe/wapipe/internal/health"
)

// ReplicaConfig names a topic that every worker reads whole, outside the consumer group:
// the log through which workers share state (the identity snapshots). A worker reads it
// up to its end before it starts consuming the input topic, then keeps following it.
// Its records go to Stages.Import on the process goroutine, and how far they are durable
// is saved in Offsets, so a worker with state resumes where it stopped and a worker
// without state reads the topic from the beginning.
type ReplicaConfig struct {
	Topic   string
	Offsets OffsetStore
	// Partitions is how many partitions the topic gets when the worker creates it
	// (compacted; 0 means 1, which keeps the topic in one order).
	Partitions int
}

// OffsetStore keeps the next offset to read of each partition of a replica topic.
type OffsetStore interface {
	Load(topic string) (map[int]int64, error)
	Save(topic string, offsets map[int]int64) error
}

// savedOffsets commits a replica lease to the worker's own state.
type savedOffsets struct{ store OffsetStore }

func (c savedOffsets) commit(topic string, offsets map[int]int64) error {
	return c.store.Save(topic, offsets)
}

// replica reads every partition of the replica topic into the pipeline.
type replica struct {
	cfg ReplicaConfig
	src *source

	mu     sync.Mutex
	leases map[*lease]int64 // -> the partition's end when the worker started
}

func newReplica(cfg ReplicaConfig, src *source) *replica {
	if cfg.Partitions <= 0 {
		cfg.Partitions = 1
	}
	return &replica{cfg: cfg, src: src, leases: map[*lease]int64{}}
}

// run reads the topic until ctx ends, creating it if it is missing.
func (rp *replica) run(ctx context.Context) error {
	starts, ends, err := rp.discover(ctx)
	if ctx.Err() != nil {
		return nil // stopped before the topic could be read
	}
	if err != nil {
		return err
	}
	var wg conc.WaitGroup
	for p, start := range starts {
		l := newLease(rp.cfg.Topic, p, savedOffsets{rp.cfg.Offsets}, start)
		rp.mu.Lock()
		rp.leases[l] = ends[p]
		rp.mu.Unlock()
		wg.Go(func() {
			rp.src.read(ctx, l, true, rp.src.cfg.replicaFetch(len(starts)))
			rp.src.handOver(l)
		})
	}
	wg.Wait()
	return nil
}

// caughtUp says whether every partition is durable up to where it ended at start.
func (rp *replica) caughtUp() bool {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if len(rp.leases) == 0 {
		return false
	}
	for l, end := range rp.leases {
		if next, _ := l.commitPoint(); next < end {
			return false
		}
	}
	return true
}

// waitCaughtUp blocks until caughtUp, ctx ends or the replica stopped (done), and says
// whether it caught up.
func (rp *replica) waitCaughtUp(ctx context.Context, done <-chan struct{}) bool {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for !rp.caughtUp() {
		select {
		case <-ctx.Done():
			return false
		case <-done:
			return false
		case <-t.C:
		}
	}
	return true
}

// commitAll saves every lease's durable mark that moved.
func (rp *replica) commitAll() {
	for _, l := range leasesOf(&rp.mu, rp.leases) {
		rp.src.commitLease(l)
	}
}

// discover creates the topic when it is missing and returns, per partition, where to
// start (the saved offset, or the first one still kept) and where the topic ends now.
// It retries while the brokers are away, as a worker starting beside its cluster must.
func (rp *replica) discover(ctx context.Context) (starts, ends map[int]int64, err error) {
	saved, err := rp.cfg.Offsets.Load(rp.cfg.Topic)
	if err != nil {
		return nil, nil, fmt.Errorf("replica %s: load offsets: %w", rp.cfg.Topic, err)
	}
	client := &kafka.Client{Addr: kafka.TCP(rp.src.cfg.Brokers...), Timeout: 10 * time.Second, Transport: rp.src.cfg.Transport}
	err = rp.src.retrier(health.IdentityTopic).Do(ctx, "read the offsets of "+rp.cfg.Topic, func() (err error) {
		if starts, ends, err = rp.offsets(ctx, client); err != nil {
			rp.src.metrics.Errors.WithLabelValues("replica").Inc()
			err = connect.DiagnoseKafka(ctx, rp.src.cfg.Dialer, rp.src.cfg.Brokers, err) // a refused login, not "unexpected EOF"
		}
		return err
	})
	if err != nil {
		return nil, nil, err // ctx ended
	}
	for p, first := range starts {
		if s, ok := saved[p]; ok && s > first {
			starts[p] = min(s, ends[p])
		}
	}
	return starts, ends, nil
}

func (rp *replica) offsets(ctx context.Context, client *kafka.Client) (starts, ends map[int]int64, err error) {
	if err := rp.create(ctx, client); err != nil {
		return nil, nil, err
	}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{rp.cfg.Topic}})
	if err != nil {
		return nil, nil, err
	}
	if len(md.Topics) != 1 || md.Topics[0].Error != nil || len(md.Topics[0].Partitions) == 0 {
		return nil, nil, fmt.Errorf("no partitions for topic %s yet", rp.cfg.Topic)
	}
	var reqs []kafka.OffsetRequest
	for _, p := range md.Topics[0].Partitions {
		reqs = append(reqs, kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID))
	}
	resp, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{rp.cfg.Topic: reqs}})
	if err != nil {
		return nil, nil, err
	}
	starts, ends = map[int]int64{}, map[int]int64{}
	for _, po := range resp.Topics[rp.cfg.Topic] {
		if po.Error != nil {
			return nil, nil, po.Error
		}
		starts[po.Partition], ends[po.Partition] = po.FirstOffset, po.LastOffset
	}
	if len(starts) != len(md.Topics[0].Partitions) {
		return nil, nil, fmt.Errorf("offsets of %d of %d partitions of %s", len(starts), len(md.Topics[0].Partitions), rp.cfg.Topic)
	}
	return starts, ends, nil
}

// create makes the topic compacted (the newest snapshot of each key is all that matters),
// unless it exists.
func (rp *replica) create(ctx context.Context, client *kafka.Client) error {
	resp, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: rp.cfg.Topic, NumPartitions: rp.cfg.Partitions, ReplicationFactor: -1,
		ConfigEntries: []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: "compact"}},
	}}})
	if err != nil {
		return err
	}
	if err := resp.Errors[rp.cfg.Topic]; err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		return err
	}
	return nil
}
