// Package testcluster finds, for tests, the loopback ClickHouse clusters that scripts/cluster.sh
// runs: WAPIPE_TEST_CLUSTER names the native addresses of the 1-shard, 2-replica one
// (comma-separated, `scripts/cluster.sh addrs`), WAPIPE_TEST_CLUSTER_SHARDED those of the 2-shard
// one, and WAPIPE_TEST_CLUSTER_NAME the name (default wapipe; the sharded one's has _sharded).
// `make test-cluster` starts them and sets these; without them a test that asks skips.
package testcluster

import (
	"os"
	"strings"
	"testing"
)

// Env returns the addresses and the name of the cluster, or skips the test.
func Env(t *testing.T, sharded bool) (addrs []string, name string) {
	t.Helper()
	name = os.Getenv("WAPIPE_TEST_CLUSTER_NAME")
	if name == "" {
		name = "wapipe"
	}
	env := "WAPIPE_TEST_CLUSTER"
	if sharded {
		env, name = env+"_SHARDED", name+"_sharded"
	}
	v := os.Getenv(env)
	if v == "" {
		t.Skip(env + " is unset: run `make test-cluster`")
	}
	return strings.Split(v, ","), name
}
