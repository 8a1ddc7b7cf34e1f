package pipeline

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/wapipe/wapipe/model"
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
	slow := sinkFunc(func(ctx context.Context, batch []*Unit) error {
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
	st.Process = func(_ context.Context, u *Unit) error { u.Rows = make([]model.Row, 1); return nil }
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
