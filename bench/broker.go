package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/wapipe/wapipe/gen"
)

const (
	topic    = "whatsapp.webhooks"
	dlqTopic = "whatsapp.webhooks.dlq"
)

// startBroker runs kfake in this process. Its CPU is then this process's CPU while the worker
// consumes, which is how the report separates the broker's share from the worker's.
// maxMessageBytes is the broker's message.max.bytes (Kafka's default is 1 MiB).
func startBroker(partitions, maxMessageBytes int) (*kfake.Cluster, error) {
	return kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(int32(partitions), topic, dlqTopic),
		kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(partitions),
		kfake.BrokerConfigs(map[string]string{"message.max.bytes": strconv.Itoa(maxMessageBytes)}))
}

// preloaded is what was produced: the generator's expected counts and the end offset of every
// partition, which the worker has committed once it is done.
type preloaded struct {
	exp   gen.Expected
	ends  map[int32]int64
	bytes int64
	took  time.Duration
	// dayStarts[d] is how many bodies come before event day d (day 0 starts at the first
	// body): the progress loop reports the state as each day is durable.
	dayStarts []int
	// poison maps each poison body (gen's PoisonRate) to its kind: the soak's truth of
	// what must reach the dead-letter topic.
	poison map[string]string
}

// preload streams the generator's bodies into the broker: franz-go batches them per partition
// (up to 1 MB a request, several requests in flight) and blocks once MaxBufferedRecords wait,
// so neither the bodies nor the generator's output are ever held together.
func preload(ctx context.Context, brokers string, cfg gen.Config) (preloaded, error) {
	start := time.Now()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.DefaultProduceTopic(topic),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.ProducerBatchMaxBytes(1<<20),
		kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(50_000),
		// The same key always lands on the same partition, so one business number's traffic
		// stays in order, as the worker's contract (section 2) assumes.
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))
	if err != nil {
		return preloaded{}, err
	}
	defer cl.Close()

	var (
		mu      sync.Mutex
		ends    = map[int32]int64{}
		failure error
	)
	done := func(r *kgo.Record, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil && failure == nil {
			failure = err
		}
		if err == nil && r.Offset+1 > ends[r.Partition] {
			ends[r.Partition] = r.Offset + 1
		}
	}
	g := gen.New(cfg)
	var bytes int64
	poison := map[string]string{}
	var dayStarts []int
	var first time.Time
	for n := 0; ; n++ {
		b, ok := g.Next()
		if !ok {
			break
		}
		if n == 0 {
			first = g.Clock()
		}
		for int(g.Clock().Sub(first)/(24*time.Hour)) >= len(dayStarts) {
			dayStarts = append(dayStarts, n)
		}
		bytes += int64(len(b.Value))
		if b.Poison != "" {
			poison[string(b.Value)] = b.Poison
		}
		cl.Produce(ctx, &kgo.Record{Key: b.Key, Value: b.Value}, done)
		if n%200_000 == 0 && n > 0 {
			fmt.Printf("  produced %d of %d\n", n, cfg.Webhooks)
		}
	}
	if err := cl.Flush(ctx); err != nil {
		return preloaded{}, err
	}
	if failure != nil {
		return preloaded{}, fmt.Errorf("produce: %w", failure)
	}
	return preloaded{exp: g.Expected(), ends: ends, bytes: bytes, took: time.Since(start), poison: poison,
		dayStarts: dayStarts}, nil
}

// committed sums the group's committed offsets and says whether every partition reached its end.
func committed(ctx context.Context, cl *kgo.Client, group string, ends map[int32]int64) (int64, bool, error) {
	req := kmsgOffsetFetch(group, ends)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return 0, false, err
	}
	var sum int64
	all := true
	got := map[int32]int64{}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if p.Offset > 0 {
				got[p.Partition] = p.Offset
				sum += p.Offset
			}
		}
	}
	for p, end := range ends {
		if got[p] < end {
			all = false
		}
	}
	return sum, all, nil
}
