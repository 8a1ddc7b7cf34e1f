package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/wapipe/wapipe/gen"
	"github.com/wapipe/wapipe/internal/testcluster"
	"github.com/wapipe/wapipe/model"
)

// clusterWorld is newEnv on a cluster: the broker, a database migrated with --cluster (dropped ON
// CLUSTER at the end), and the flags a worker needs to write through its Distributed tables.
func clusterWorld(t *testing.T, sharded bool) (e *env, addrs []string, workerFlags []string) {
	t.Helper()
	addrs, cluster := testcluster.Env(t, sharded)
	if len(addrs) < 2 {
		t.Fatalf("cluster %s at %v: want two servers", cluster, addrs)
	}
	t.Setenv("WAPIPE_TEST_CLICKHOUSE", addrs[0])
	e = newEnv(t, 3)
	e.conn.Close()
	e.conn = openCH(t, addrs...)
	e.chAddr = strings.Join(addrs, ",")
	t.Cleanup(func() {
		// After the workers stop (cleanups run last first), before newEnv's single-server drop.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := e.conn.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s ON CLUSTER %s", e.database, cluster)); err != nil {
			t.Logf("drop %s on cluster: %v", e.database, err)
		}
	})
	workerFlags = []string{"--cluster", cluster, "--zookeeper-path", "/wapipe_e2e"}
	args := append([]string{"migrate", "--clickhouse", e.chAddr, "--database", e.database}, workerFlags...)
	if out, err := exec.Command(binary, args...).CombinedOutput(); err != nil {
		t.Fatalf("migrate --cluster: %v\n%s", err, out)
	}
	return e, addrs, workerFlags
}

func clusterScript(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("../scripts/cluster.sh", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("cluster.sh %v: %v\n%s", args, err, out)
	}
}

func openCH(t *testing.T, addrs ...string) driver.Conn {
	t.Helper()
	conn, err := ch.Open(&ch.Options{Addr: addrs, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// The worker writes through the Distributed tables of a 1-shard, 2-replica cluster. Mid-run the
// replica it writes to is stopped: the worker goes on through the other one, is restarted meanwhile
// (it starts with a replica down), and once the stopped one is back it catches up by replication. FINAL through the plain names, on either server, gives exactly
// the generator's counts, and both replicas hold the same rows.
func TestClusterReplicaStoppedMidRunLosesNothing(t *testing.T) {
	e, addrs, flags := clusterWorld(t, false)
	msgs, exp := generate(6_000, 17, 0)
	third := len(msgs) / 3
	e.produce(msgs[:2*third])
	state := t.TempDir()
	w := e.startWorker(state, flags...)
	waitFor(t, 90*time.Second, "a third of the records committed", func() bool {
		return e.committed("wapipe", 3) >= int64(third)
	})
	clusterScript(t, "node-stop", "1")                        // the replica the worker writes to (its first address)
	t.Cleanup(func() { clusterScript(t, "node-start", "1") }) // idempotent: a no-op once it is up
	e.produce(msgs[2*third : 2*third+third/2])
	// A worker restarted while a replica is down starts: its migrations at start find the schema current
	// and run no ON CLUSTER statement, which would wait for the stopped server.
	w.stop(t)
	w = e.startWorker(state, flags...)
	e.produce(msgs[2*third+third/2:])
	waitFor(t, 90*time.Second, "every record committed with replica 1 down", func() bool {
		return e.committed("wapipe", 3) == int64(len(msgs))
	})
	if !w.alive() {
		t.Fatal("the worker exited while a replica was down")
	}
	clusterScript(t, "node-start", "1")

	for i, addr := range addrs {
		one := &env{t: t, database: e.database, conn: openCH(t, addr)}
		one.expectReports(exp, 60*time.Second)
		one.expectExactCounts(exp)
		if t.Failed() {
			t.Fatalf("server %d (%s) does not read the expected reports", i+1, addr)
		}
	}
	e.expectSameReplicas(addrs)
	w.stop(t)
}

// The worker writes through the Distributed tables of a 2-shard cluster: each shard gets some of every
// report table's keys and no key is on both, so FINAL through the plain names (applied per shard) gives
// exactly the generator's counts, from either server.
func TestClusterShardedFinalIsExact(t *testing.T) {
	e, addrs, flags := clusterWorld(t, true)
	msgs, exp := generate(4_000, 19, 0)
	e.produce(msgs)
	w := e.startWorker(t.TempDir(), flags...)
	e.expectReports(exp, 90*time.Second)
	waitFor(t, 60*time.Second, "every record committed", func() bool { return e.committed("wapipe", 3) == int64(len(msgs)) })
	for i, addr := range addrs {
		one := &env{t: t, database: e.database, conn: openCH(t, addr)}
		one.expectReports(exp, 10*time.Second)
		one.expectExactCounts(exp)
		if n := one.count("SELECT count() FROM $db.chat_report_local FINAL"); n <= 0 || n >= int64(exp.ChatRows) {
			t.Errorf("shard %d holds %d of %d chat rows: not sharded", i+1, n, exp.ChatRows)
		}
	}
	w.stop(t)
}

// expectExactCounts checks the counts that would go wrong if a row were lost or counted twice by the
// failover: lead touches, outbound statuses.
func (e *env) expectExactCounts(exp gen.Expected) {
	e.t.Helper()
	for q, want := range map[string]int{
		"SELECT sum(touches) FROM $db.leads FINAL":                           exp.Referrals,
		"SELECT countIf(direction = 'inbound') FROM $db.chat_report FINAL":   exp.InboundMessages,
		"SELECT countIf(status = 'read') FROM $db.chat_report FINAL":         exp.OutboundRead,
		"SELECT countIf(status = 'failed') FROM $db.chat_report FINAL":       exp.OutboundFailed,
		"SELECT toUInt64(sum(duration_seconds)) FROM $db.voice_report FINAL": int(exp.CallSeconds),
		"SELECT count() FROM $db.identities FINAL WHERE merged_into = ''":    exp.Contacts,
	} {
		if got := e.count(q); got != int64(want) {
			e.t.Errorf("%s = %d, want %d", q, got, want)
		}
	}
}

// expectSameReplicas waits until every replica's local tables hold the same rows (count and a hash of
// every row), replication having caught up.
func (e *env) expectSameReplicas(addrs []string) {
	e.t.Helper()
	for _, table := range []string{"chat_report", "package_usage_report", "voice_report", "leads", "identities", "contact_keys"} {
		q := fmt.Sprintf("SELECT count(), sum(cityHash64(%s)) FROM %s.%s_local FINAL",
			strings.Join(model.Columns(table), ", "), e.database, table)
		var first [2]uint64
		waitFor(e.t, 60*time.Second, "replicas of "+table+" to agree", func() bool {
			for i, addr := range addrs {
				conn := openCH(e.t, addr)
				var got [2]uint64
				err := conn.QueryRow(context.Background(), q).Scan(&got[0], &got[1])
				conn.Close()
				if err != nil {
					return false
				}
				if i == 0 {
					first = got
				} else if got != first {
					return false
				}
			}
			return first[0] > 0
		})
	}
}
