package pipeline

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/wapipe/wapipe/internal/health"
)

// While the brokers fail every fetch and offset request, the worker backs off (one policy),
// counts each retry on wapipe_retries_total{dependency="kafka"} as it happens, and reports
// kafka down; once they answer again everything is durable and committed, and kafka is up.
func TestKafkaOutageBacksOffCountsAndRecovers(t *testing.T) {
	const parts, n = 2, 20
	tc := newTestCluster(t, parts)
	var down atomic.Bool
	down.Store(true)
	for _, key := range []kmsg.Key{kmsg.Fetch, kmsg.ListOffsets} {
		tc.c.ControlKey(int16(key), func(kmsg.Request) (kmsg.Response, error, bool) {
			tc.c.KeepControl()
			if down.Load() {
				return nil, errors.New("broker away"), true // kfake closes the connection
			}
			return nil, nil, false
		})
	}
	tc.fill(n, 10, func(p, i int) string { return "v" })
	cfg := tc.config("g")
	cfg.LagInterval = 50 * time.Millisecond
	deps := &health.Deps{}
	cfg.Health = deps
	d := newDurable()
	run := start(t, cfg, plainStages(), okSink(), d.after)

	retries := func() float64 { return value(run.m.Retries.WithLabelValues(health.Kafka)) }
	kafkaDown := func() bool {
		for _, o := range deps.Down() {
			if o.Dependency == health.Kafka {
				return true
			}
		}
		return false
	}
	if !eventually(20*time.Second, func() bool { return retries() >= 2 && kafkaDown() }) {
		t.Fatalf("during the outage: %v kafka retries, kafka down %v; want retries counted and kafka down", retries(), kafkaDown())
	}
	if d.count() != 0 {
		t.Fatalf("%d records durable while no fetch could succeed", d.count())
	}
	down.Store(false)
	tc.waitCommitted("g", n, 20*time.Second)
	if !eventually(5*time.Second, func() bool { return !kafkaDown() }) {
		t.Errorf("kafka still down after recovery: %+v", deps.Down())
	}
	if err := run.stop(t); err != nil {
		t.Fatal(err)
	}
	d.check(t, parts, n, true)
}

// A committed offset that retention has since deleted: kafka-go moves to the first offset
// kept without a word; the worker counts and logs the records it never read.
func TestRecordsGoneByRetentionAreCounted(t *testing.T) {
	tc := newTestCluster(t, 1)
	tc.fill(10, 10, func(p, i int) string { return "v" })
	run := start(t, tc.config("g"), plainStages(), okSink(), nil)
	tc.waitCommitted("g", 10, 8*time.Second)
	if err := run.stop(t); err != nil {
		t.Fatal(err)
	}

	tc.fill(10, 10, func(p, i int) string { return "v" }) // offsets 10 to 19
	tc.deleteRecordsBefore(15)                            // 10 to 14 are gone unread
	var logs lockedBuffer
	cfg := tc.config("g")
	cfg.Logger = newJSONLogger(&logs)
	run = start(t, cfg, plainStages(), okSink(), nil)
	tc.waitCommitted("g", 20, 8*time.Second)
	if got := value(run.m.Skipped); got != 5 {
		t.Errorf("wapipe_records_skipped_total = %v, want 5", got)
	}
	if !contains(logs.String(), `"msg":"records skipped: no longer in the topic when the group reached them (retention)"`, `"from":10,"to":15,"records":5`) {
		t.Errorf("the skip is not logged: %.800s", logs.String())
	}
	if err := run.stop(t); err != nil {
		t.Fatal(err)
	}
}

// deleteRecordsBefore deletes partition 0's records below offset, as retention does.
func (tc *testCluster) deleteRecordsBefore(offset int64) {
	tc.t.Helper()
	req := kmsg.NewPtrDeleteRecordsRequest()
	rt := kmsg.NewDeleteRecordsRequestTopic()
	rt.Topic = testTopic
	rp := kmsg.NewDeleteRecordsRequestTopicPartition()
	rp.Offset = offset
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 5000
	resp, err := req.RequestWith(context.Background(), tc.produce)
	if err != nil {
		tc.t.Fatal(err)
	}
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != 0 {
		tc.t.Fatalf("delete records: error code %d", code)
	}
}
