package pipeline

import (
	"context"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/wapipe/wapipe/unit"
)

// memOffsets is an OffsetStore in memory.
type memOffsets struct {
	mu    sync.Mutex
	saved map[string]map[int]int64
}

func (m *memOffsets) Load(topic string) (map[int]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.saved[topic]), nil
}

func (m *memOffsets) Save(topic string, offsets map[int]int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.saved == nil {
		m.saved = map[string]map[int]int64{}
	}
	if m.saved[topic] == nil {
		m.saved[topic] = map[int]int64{}
	}
	maps.Copy(m.saved[topic], offsets)
	return nil
}

func (m *memOffsets) at(topic string, p int) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.saved[topic][p]
}

func (tc *testCluster) fillReplica(n int) {
	tc.t.Helper()
	var recs []*kgo.Record
	for i := 0; i < n; i++ {
		recs = append(recs, &kgo.Record{Topic: replicaTopic, Partition: 0, Value: []byte("snapshot")})
	}
	if err := tc.produce.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		tc.t.Fatal(err)
	}
}

// order records which stage saw which record, in the order of the process goroutine.
type order struct {
	mu   sync.Mutex
	seen []string // "import" or "process"
}

func (o *order) add(s string) {
	o.mu.Lock()
	o.seen = append(o.seen, s)
	o.mu.Unlock()
}

func (o *order) count(s string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	c := 0
	for _, x := range o.seen {
		if x == s {
			c++
		}
	}
	return c
}

// The replica topic is read to its end before the worker consumes its input, its offsets
// are saved once durable, and a restart resumes from them (and keeps following the topic).
func TestReplicaCatchesUpFirstAndResumes(t *testing.T) {
	const parts, n, kept = 2, 10, 30
	tc := newTestCluster(t, parts)
	tc.fillReplica(kept)
	tc.fill(n, 10, func(p, i int) string { return "v" })
	store := &memOffsets{}

	runOnce := func(group string, more int) *order {
		var o order
		st := plainStages()
		st.Process = func(_ context.Context, u *unit.Unit) error { o.add("process"); return nil }
		st.Import = func(_ context.Context, u *unit.Unit) error {
			if !u.Rec.Replica || u.Rec.Topic != replicaTopic {
				t.Errorf("import got %s (replica %v)", u.Rec.Source(), u.Rec.Replica)
			}
			o.add("import")
			return nil
		}
		cfg := tc.config(group)
		cfg.Replica = &ReplicaConfig{Topic: replicaTopic, Offsets: store}
		run := start(t, cfg, st, okSink(), nil)
		tc.waitCommitted(group, n, 8*time.Second)
		if more > 0 {
			tc.fillReplica(more)
		}
		want := int64(kept + more)
		if !eventually(5*time.Second, func() bool { return store.at(replicaTopic, 0) == want }) {
			t.Fatalf("replica offset saved at %d, want %d", store.at(replicaTopic, 0), want)
		}
		if err := run.stop(t); err != nil {
			t.Fatalf("Run: %v", err)
		}
		return &o
	}

	first := runOnce("g1", 0)
	if got := first.count("import"); got != kept {
		t.Errorf("imported %d replica records, want %d", got, kept)
	}
	for i, s := range first.seen[:kept] {
		if s != "import" {
			t.Fatalf("record %d on the process goroutine was %s before the replica caught up", i, s)
		}
	}

	// A restart with the saved offsets reads only what was added since (a new group, so
	// the input is read again too).
	second := runOnce("g2", 5)
	if got := second.count("import"); got != 5 {
		t.Errorf("after restart imported %d replica records, want the 5 new ones", got)
	}
	if got := second.count("process"); got != parts*n {
		t.Errorf("after restart processed %d input records, want %d", got, parts*n)
	}
}
