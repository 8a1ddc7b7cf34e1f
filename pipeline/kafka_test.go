package pipeline

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/wapipe/wapipe/unit"
)

const (
	testTopic    = "in"
	replicaTopic = "ids" // one partition
)

// testCluster is an in-process broker with one seeded topic.
type testCluster struct {
	t       *testing.T
	c       *kfake.Cluster
	addr    string
	parts   int
	produce *kgo.Client
}

func newTestCluster(t *testing.T, partitions int) *testCluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(int32(partitions), testTopic),
		kfake.SeedTopics(1, replicaTopic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	addr := c.ListenAddrs()[0]
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &testCluster{t: t, c: c, addr: addr, parts: partitions, produce: cl}
}

// fill produces n records of size bytes to every partition; values start with prefix.
func (tc *testCluster) fill(n, size int, value func(p, i int) string) {
	tc.t.Helper()
	var recs []*kgo.Record
	for p := 0; p < tc.parts; p++ {
		for i := 0; i < n; i++ {
			v := []byte(value(p, i))
			if len(v) < size {
				v = append(v, make([]byte, size-len(v))...)
			}
			recs = append(recs, &kgo.Record{Topic: testTopic, Partition: int32(p), Value: v})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tc.produce.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		tc.t.Fatal(err)
	}
}

// committed reads the group's committed offsets back from the broker (-1: none).
func (tc *testCluster) committed(group string) map[int]int64 {
	tc.t.Helper()
	parts := make([]int, tc.parts)
	for p := range parts {
		parts[p] = p
	}
	cl := &kafka.Client{Addr: kafka.TCP(tc.addr), Timeout: 5 * time.Second}
	resp, err := cl.OffsetFetch(context.Background(), &kafka.OffsetFetchRequest{GroupID: group,
		Topics: map[string][]int{testTopic: parts}})
	if err != nil {
		tc.t.Fatal(err)
	}
	out := map[int]int64{}
	for _, p := range resp.Topics[testTopic] {
		if p.Error != nil {
			tc.t.Fatalf("offset fetch partition %d: %v", p.Partition, p.Error)
		}
		out[p.Partition] = p.CommittedOffset
	}
	return out
}

// waitCommitted waits until every partition's committed offset is want.
func (tc *testCluster) waitCommitted(group string, want int64, within time.Duration) {
	tc.t.Helper()
	var got map[int]int64
	ok := eventually(within, func() bool {
		got = tc.committed(group)
		for p := 0; p < tc.parts; p++ {
			if got[p] != want {
				return false
			}
		}
		return true
	})
	if !ok {
		tc.t.Fatalf("committed offsets %v, want %d on each of %d partitions", got, want, tc.parts)
	}
}

func (tc *testCluster) config(group string) Config {
	return Config{
		Brokers: []string{tc.addr}, Topic: testTopic, Group: group,
		SessionTimeout: 6 * time.Second, RebalanceTimeout: 3 * time.Second,
		DrainTimeout: 3 * time.Second, ShutdownTimeout: 5 * time.Second,
		FetchMaxWait: 50 * time.Millisecond, BatchAge: 40 * time.Millisecond,
		CommitInterval: 30 * time.Millisecond, BatchRows: 1000,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// eventually polls cond every 20 ms until it holds or within passes.
func eventually(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// running is a runner started on its own goroutine.
type running struct {
	r      *Runner
	m      *Metrics
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, cfg Config, st Stages, sink Sink, after AfterDurable) *running {
	t.Helper()
	m := NewMetrics(nil)
	r, err := New(cfg, st, sink, after, m)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	run := &running{r: r, m: m, cancel: cancel, done: make(chan error, 1)}
	go func() { run.done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-run.done:
		case <-time.After(15 * time.Second):
			t.Error("runner did not stop within 15s of cancel")
		}
	})
	return run
}

// stop cancels the runner and returns what Run returned.
func (run *running) stop(t *testing.T) error {
	t.Helper()
	run.cancel()
	select {
	case err := <-run.done:
		run.done <- err // for the cleanup
		return err
	case <-time.After(15 * time.Second):
		t.Fatal("runner did not stop within 15s of cancel")
		return nil
	}
}

func value(c prometheus.Collector) float64 {
	ch := make(chan prometheus.Metric, 1)
	c.Collect(ch)
	var m dto.Metric
	if err := (<-ch).Write(&m); err != nil {
		panic(err)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

// key names a record as its partition and offset.
type key struct {
	p   int
	off int64
}

func (k key) String() string { return fmt.Sprintf("%d/%d", k.p, k.off) }

// durable counts how many times each record reached AfterDurable.
type durable struct {
	mu    sync.Mutex
	seen  map[key]int
	units map[key]*unit.Unit
}

func newDurable() *durable { return &durable{seen: map[key]int{}, units: map[key]*unit.Unit{}} }

func (d *durable) after(_ context.Context, batch []*unit.Unit) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, u := range batch {
		k := key{u.Rec.Partition, u.Rec.Offset}
		d.seen[k]++
		d.units[k] = u
	}
	return nil
}

func (d *durable) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.seen)
}

// check says every record of n per partition was durable, exactly once when once.
func (d *durable) check(t *testing.T, parts, n int, once bool) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	for p := 0; p < parts; p++ {
		for i := 0; i < n; i++ {
			k := key{p, int64(i)}
			if c := d.seen[k]; c == 0 || (once && c != 1) {
				t.Errorf("record %v durable %d times", k, c)
			}
		}
	}
	if len(d.seen) != parts*n {
		t.Errorf("%d distinct records durable, want %d", len(d.seen), parts*n)
	}
}

// plain stages: decode does nothing, process builds no rows.
func plainStages() Stages {
	return Stages{Decode: func(*unit.Unit) {}, Process: func(context.Context, *unit.Unit) error { return nil }}
}

// sinkFunc adapts a function to Sink.
type sinkFunc func(ctx context.Context, batch []*unit.Unit) error

func (f sinkFunc) Write(ctx context.Context, batch []*unit.Unit) error { return f(ctx, batch) }

func okSink() Sink { return sinkFunc(func(context.Context, []*unit.Unit) error { return nil }) }
