package clickhouse

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wapipe/wapipe/internal/testcluster"
	"github.com/wapipe/wapipe/model"
)

// A database migrated on one server is not silently left as it is by migrate --cluster (it would print
// "up to date"): the layouts do not convert into each other in place.
func TestClusterLayoutRefusesASingleServerDatabase(t *testing.T) {
	c, _ := migrated(t)
	_, err := MigrateLayout(t.Context(), c.Conn(), c.Database(), Layout{Cluster: "somewhere"})
	if err == nil || !strings.Contains(err.Error(), "laid out on one server") {
		t.Errorf("migrate --cluster of a single-server database: %v", err)
	}
}

var onCluster = regexp.MustCompile(`\sON CLUSTER c1\s`)

// Every statement of every migration has a cluster form: a new migration of a shape the layout does not
// know fails here, not on a customer's cluster.
func TestEveryMigrationHasAClusterForm(t *testing.T) {
	all, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	l, err := Layout{Cluster: "c1", ZooKeeperPath: "/zk/"}.check()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range append(all, Migration{Name: "schema_migrations", Statements: []string{migrationsDDL}}) {
		for _, stmt := range m.Statements {
			out, err := l.statements(stmt, "db")
			if err != nil {
				t.Fatalf("%s: %v", m.Name, err)
			}
			for _, s := range out {
				if !onCluster.MatchString(s) || strings.Contains(s, "{database}") {
					t.Errorf("%s: %s", m.Name, s)
				}
			}
			if strings.HasPrefix(stmt, "CREATE TABLE") {
				if len(out) != 2 || !strings.Contains(out[0], "ENGINE = ReplicatedReplacingMergeTree('/zk/{shard}/db/") ||
					!strings.Contains(out[1], "ENGINE = Distributed('c1', 'db', '") || !strings.Contains(out[1], "cityHash64(") {
					t.Errorf("%s: %q", m.Name, out)
				}
			}
		}
	}
	for _, bad := range []Layout{{Cluster: "a;b"}, {Cluster: "c", ZooKeeperPath: "zk"}, {Cluster: "c", ZooKeeperPath: "/a'b"}} {
		if _, err := bad.check(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// clusterClients opens a client on each server of the cluster on a fresh database, dropped ON CLUSTER
// when the test ends; each client is laid out for the cluster and tries its own server first.
func clusterClients(t *testing.T, sharded bool) []*Client {
	t.Helper()
	addrs, name := testcluster.Env(t, sharded)
	db := fmt.Sprintf("wapipe_cluster_%016x", rand.Uint64())
	var out []*Client
	for i := range addrs {
		c, err := Open(t.Context(), Config{Addrs: append(addrs[i:], addrs[:i]...), Database: db,
			Layout: Layout{Cluster: name, ZooKeeperPath: "/wapipe_test"}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := out[0].Conn().Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s ON CLUSTER %s", db, name)); err != nil {
			t.Errorf("drop %s: %v", db, err)
		}
		for _, c := range out {
			_ = c.Close()
		}
	})
	return out
}

// On each cluster (two replicas of one shard; two shards), migrate twice (the second applies nothing, from
// any server), write two versions of 500 keys through the plain names, and read one row per key, the
// latest, with FINAL from every server; on two shards each holds some keys and no key is on both. Then
// prune drops the month on every server.
func TestMigrateOnCluster(t *testing.T) {
	for _, sharded := range []bool{false, true} {
		t.Run(map[bool]string{false: "replicated", true: "sharded"}[sharded], func(t *testing.T) {
			cs := clusterClients(t, sharded)
			migrateTwice(t, cs)
			const keys = 500
			for _, version := range []uint64{1, 2} {
				rows := make([]model.Row, keys)
				for i := range rows {
					rows[i] = chatRow(i, version)
				}
				if err := cs[int(version)%len(cs)].Insert(t.Context(), "chat_report", rows); err != nil {
					t.Fatal(err)
				}
			}
			var local int64
			for i, c := range cs {
				finalCount(t, c, "chat_report", keys)
				n, err := count(t.Context(), c.Conn(), "SELECT count() FROM "+c.Database()+".chat_report_local FINAL")
				if err != nil {
					t.Fatal(err)
				}
				if sharded && (n == 0 || n == keys) {
					t.Errorf("shard %d holds %d of %d keys: not sharded", i+1, n, keys)
				}
				local += n
			}
			if sharded && local != keys {
				t.Errorf("the shards hold %d keys in all, want %d: a key on two shards would read twice", local, keys)
			}
			pruneOnCluster(t, cs)
		})
	}
}

func migrateTwice(t *testing.T, cs []*Client) {
	t.Helper()
	applied, err := cs[0].Migrate(t.Context())
	if err != nil || len(applied) == 0 {
		t.Fatalf("applied %v, err %v", applied, err)
	}
	for i, c := range cs {
		if again, err := c.Migrate(t.Context()); err != nil || len(again) != 0 {
			t.Fatalf("second run applied %v, err %v; want nothing", again, err)
		}
		key, err := partitionKey(t.Context(), c.Conn(), c.Database(), "chat_report"+LocalSuffix)
		if err != nil || key != reportPartitionKey {
			t.Errorf("server %d: chat_report_local partition key %q, %v", i+1, key, err)
		}
	}
}

// finalCount waits until FINAL through the plain name reads keys rows, all of version 2: replication
// is asynchronous, so another replica may need a moment to fetch the parts.
func finalCount(t *testing.T, c *Client, table string, keys uint64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n, v2 uint64
		err := c.Conn().QueryRow(t.Context(), fmt.Sprintf(
			"SELECT count(), countIf(version = 2) FROM %s.%s FINAL", c.Database(), table)).Scan(&n, &v2)
		if err != nil {
			t.Fatal(err)
		}
		if n == keys && v2 == keys {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("FINAL read %d rows, %d of version 2; want %d of each", n, v2, keys)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// pruneOnCluster: the rows have first_event_at 0, January 1970, which prune drops on every server.
func pruneOnCluster(t *testing.T, cs []*Client) {
	t.Helper()
	dropped, err := cs[len(cs)-1].Prune(t.Context(), time.Now(), false)
	if err != nil || len(dropped) != 1 || dropped[0].Table != "chat_report" || dropped[0].Month != "197001" {
		t.Fatalf("prune on the cluster dropped %v, %v; want chat_report 197001", dropped, err)
	}
	for i, c := range cs {
		if n, err := count(t.Context(), c.Conn(), "SELECT count() FROM "+c.Database()+".chat_report_local"); err != nil || n != 0 {
			t.Errorf("server %d: %d rows after prune, %v", i+1, n, err)
		}
	}
}

// A cluster database with a migration pending refuses a migrate without --cluster (it would create the
// new objects on one server), and takes it with --cluster.
func TestClusterDatabaseRefusesSingleServerMigrations(t *testing.T) {
	cs := clusterClients(t, false)
	c := cs[0]
	if _, err := migrateUpTo(t.Context(), c.Conn(), c.Database(), c.layout, 7); err != nil {
		t.Fatal(err)
	}
	_, err := Migrate(t.Context(), c.Conn(), c.Database())
	if err == nil || !strings.Contains(err.Error(), "migrate it with --cluster") {
		t.Fatalf("single-server migrate of a cluster database: %v", err)
	}
	if applied, err := c.Migrate(t.Context()); err != nil || len(applied) != 1 {
		t.Fatalf("migrate --cluster applied %v, %v; want the pending one", applied, err)
	}
}

// wapipe forget on a cluster: the mutations run ON CLUSTER on the _local tables (a Distributed
// table refuses them) and are waited for on every server; through the plain names every row of
// the person stays and none holds personal data, read from each server, and the other contact's
// rows are untouched.
func TestEraseOnCluster(t *testing.T) {
	for _, sharded := range []bool{false, true} {
		t.Run(map[bool]string{false: "replicated", true: "sharded"}[sharded], func(t *testing.T) {
			cs := clusterClients(t, sharded)
			migrateTwice(t, cs)
			insertAll(t, cs[0], append(personRows("c1", 1), personRows("c3", 3)...))
			before := countRows(t, cs[0], "chat_report", "FINAL", "1")
			if _, err := cs[1%len(cs)].Erase(t.Context(), "t1", []string{"c1"}); err != nil {
				t.Fatal(err)
			}
			for i, c := range cs {
				if n := countRows(t, c, "chat_report", "FINAL", "1"); n != before {
					t.Errorf("server %d: %d chat rows after the erasure, %d before", i+1, n, before)
				}
				holds := "phone IS NOT NULL OR username != '' OR profile_name != ''"
				if n := countRows(t, c, "chat_report", "", "contact_id = 'c1' AND ("+holds+")"); n != 0 {
					t.Errorf("server %d: %d chat rows of the person still hold personal data", i+1, n)
				}
				if n := countRows(t, c, "chat_report", "", "contact_id = 'c3' AND ("+holds+")"); n == 0 {
					t.Errorf("server %d: the other contact's rows were erased too", i+1)
				}
				if n := countRows(t, c, "contact_keys", "FINAL", "contact_id = 'c1' AND key_type IN ('phone', 'username')"); n != 0 {
					t.Errorf("server %d: %d phone/username keys of the person left", i+1, n)
				}
			}
		})
	}
}
