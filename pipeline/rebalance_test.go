package pipeline

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/unit"
)

// commitLog records every OffsetCommit the broker receives, failing the first one.
type commitLog struct {
	mu      sync.Mutex
	commits []commitReq
	failed  int
}

type commitReq struct {
	gen       int32
	member    string
	partition int32
	offset    int64
}

func (cl *commitLog) control(tc *testCluster) {
	tc.c.ControlKey(int16(kmsg.OffsetCommit), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		tc.c.KeepControl()
		req := kreq.(*kmsg.OffsetCommitRequest)
		cl.mu.Lock()
		defer cl.mu.Unlock()
		if cl.failed == 0 {
			// A commit that fails once: the runner keeps the offset and commits it later.
			cl.failed++
			resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
			resp.Version = req.Version
			for _, rt := range req.Topics {
				st := kmsg.NewOffsetCommitResponseTopic()
				st.Topic = rt.Topic
				for _, rp := range rt.Partitions {
					sp := kmsg.NewOffsetCommitResponseTopicPartition()
					sp.Partition = rp.Partition
					sp.ErrorCode = kerr.CoordinatorLoadInProgress.Code
					st.Partitions = append(st.Partitions, sp)
				}
				resp.Topics = append(resp.Topics, st)
			}
			return resp, nil, true
		}
		for _, rt := range req.Topics {
			for _, rp := range rt.Partitions {
				cl.commits = append(cl.commits, commitReq{req.Generation, req.MemberID, rp.Partition, rp.Offset})
			}
		}
		return nil, nil, false
	})
}

// fenced returns the commits sent by a generation older than one that had already
// committed the same partition: work of a revoked partition must never commit.
func (cl *commitLog) fenced() []commitReq {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	newest := map[int32]int32{}
	var bad []commitReq
	for _, c := range cl.commits {
		if g, ok := newest[c.partition]; ok && c.gen < g {
			bad = append(bad, c)
		}
		if c.gen > newest[c.partition] {
			newest[c.partition] = c.gen
		}
	}
	return bad
}

func (cl *commitLog) generations() map[int32]bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	gens := map[int32]bool{}
	for _, c := range cl.commits {
		gens[c.gen] = true
	}
	return gens
}

// A second runner joins the group of a 4-partition topic while the first is busy: the
// partitions are split, no generation commits after a newer one did, every record is
// durable at least once, and the committed offsets reach the end.
func TestRebalanceSplitsPartitionsAndFencesOldGeneration(t *testing.T) {
	const parts, n = 4, 100
	tc := newTestCluster(t, parts)
	var log commitLog
	log.control(tc)
	tc.fill(n, 100, func(p, i int) string { return "v" })

	// A slow sink keeps batches in flight while the group rebalances.
	slow := sinkFunc(func(ctx context.Context, batch []*unit.Unit) error {
		select {
		case <-time.After(20 * time.Millisecond):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	cfg := tc.config("g")
	cfg.BatchRows = 10
	st := plainStages()
	st.Process = func(_ context.Context, u *unit.Unit) error { u.Rows = make([]model.Row, 1); return nil }
	da, db := newDurable(), newDurable()
	a := start(t, cfg, st, slow, da.after)
	if !eventually(5*time.Second, func() bool { return value(a.m.Partitions) == parts && da.count() > 0 }) {
		t.Fatalf("first runner owns %v partitions, %d durable", value(a.m.Partitions), da.count())
	}

	b := start(t, cfg, st, slow, db.after)
	if c := da.count(); c >= parts*n {
		t.Logf("the first runner had made all %d records durable before the second joined", c)
	}
	if !eventually(10*time.Second, func() bool {
		return value(a.m.Partitions) == parts/2 && value(b.m.Partitions) == parts/2
	}) {
		t.Fatalf("partitions not split: first %v, second %v", value(a.m.Partitions), value(b.m.Partitions))
	}
	tc.fill(n, 100, func(p, i int) string { return "w" })
	tc.waitCommitted("g", 2*n, 10*time.Second)
	if err := b.stop(t); err != nil {
		t.Errorf("second runner: %v", err)
	}
	if err := a.stop(t); err != nil {
		t.Errorf("first runner: %v", err)
	}

	all := newDurable()
	for _, d := range []*durable{da, db} {
		for k, c := range d.seen {
			all.seen[k] += c
		}
	}
	all.check(t, parts, 2*n, false)
	if db.count() == 0 {
		t.Error("the second runner made nothing durable")
	}
	if bad := log.fenced(); len(bad) > 0 {
		t.Errorf("%d commits by a generation older than one that had committed, first %+v", len(bad), bad[0])
	}
	if gens := log.generations(); len(gens) < 2 {
		t.Errorf("commits from generations %v, want at least two", gens)
	}
	if log.failed != 1 {
		t.Errorf("injected %d commit failures, want 1", log.failed)
	}
	if got := value(a.m.Errors.WithLabelValues("commit")) + value(b.m.Errors.WithLabelValues("commit")); got < 1 {
		t.Errorf("commit errors %v, want the injected one counted", got)
	}
}

// A partition revoked while its records are stuck in the sink hands over uncommitted after
// DrainTimeout; when the sink later makes them durable, the revoked generation still never
// commits, and the next owners re-read and commit everything.
func TestRevokedWithRecordsInFlightNeverCommits(t *testing.T) {
	const parts, n = 2, 20
	tc := newTestCluster(t, parts)
	var log commitLog
	log.failed = 1 // no injected failure here
	log.control(tc)
	tc.fill(n, 10, func(p, i int) string { return "v" })

	cfg := tc.config("g")
	cfg.DrainTimeout = 300 * time.Millisecond
	stuck := newBlockingSink()
	da, db := newDurable(), newDurable()
	a := start(t, cfg, plainStages(), stuck, da.after)
	<-stuck.entered
	if !eventually(5*time.Second, func() bool { return value(a.m.Partitions) == parts }) {
		t.Fatalf("first runner owns %v partitions", value(a.m.Partitions))
	}
	first := int32(value(a.m.Generation))

	b := start(t, cfg, plainStages(), okSink(), db.after)
	if !eventually(10*time.Second, func() bool { return int32(value(b.m.Generation)) > first && value(b.m.Partitions) > 0 }) {
		t.Fatalf("second runner never joined: generation %v, %v partitions", value(b.m.Generation), value(b.m.Partitions))
	}
	// The second runner re-reads its partition from the start and commits it.
	if !eventually(8*time.Second, func() bool { return db.count() >= n }) {
		t.Fatalf("second runner made %d records durable, want its partition's %d", db.count(), n)
	}
	close(stuck.release) // the revoked generation's batch becomes durable late
	tc.waitCommitted("g", n, 10*time.Second)
	if err := b.stop(t); err != nil {
		t.Errorf("second runner: %v", err)
	}
	if err := a.stop(t); err != nil {
		t.Errorf("first runner: %v", err)
	}

	for _, c := range log.commits {
		if c.gen == first && c.offset > 0 {
			// Its hand-over may re-commit its start (0): nothing past it was durable.
			t.Errorf("generation %d, revoked with nothing durable, committed partition %d at %d", first, c.partition, c.offset)
		}
	}
	if bad := log.fenced(); len(bad) > 0 {
		t.Errorf("%d commits by a generation older than one that had committed, first %+v", len(bad), bad[0])
	}
	all := newDurable()
	for _, d := range []*durable{da, db} {
		for k, c := range d.seen {
			all.seen[k] += c
		}
	}
	all.check(t, parts, n, false)
}
