package e2e

import (
	"math/rand"
	"sort"
	"testing"
	"time"
)

// A run of WAPIPE_E2E_CRASH_WEBHOOKS (default 100,000) webhooks during which the worker is
// killed with SIGKILL three times at random moments (seeded: WAPIPE_E2E_CRASH_SEED) and
// restarted over the same state: every expected logical row is present once under FINAL,
// nothing is counted twice (touches, statuses, call seconds), every offset is committed, and a
// last restart over the committed offsets writes no row at all.
func TestCrashesLoseNothing(t *testing.T) {
	start := time.Now()
	n := envInt("WAPIPE_E2E_CRASH_WEBHOOKS", 100_000)
	seed := envInt64("WAPIPE_E2E_CRASH_SEED", 20261122)
	rng := rand.New(rand.NewSource(seed))
	const partitions = 6
	e := newEnv(t, partitions)
	e.diagnoseIdentities()
	tr := generateWith(genConfig(n, 5))
	exp := tr.exp
	e.produce(tr.msgs)
	t.Logf("%d webhooks generated and produced in %v; expecting %d chat rows; kill seed %d",
		len(tr.msgs), time.Since(start).Round(time.Millisecond), exp.ChatRows, seed)

	// Three kill points between 10% and 90% of the durable messages, in order, each followed by
	// a random delay of up to half a second so the kill lands at any moment of a flush or commit.
	points := []float64{0.1 + 0.8*rng.Float64(), 0.1 + 0.8*rng.Float64(), 0.1 + 0.8*rng.Float64()}
	sort.Float64s(points)

	state := t.TempDir()
	w := e.startWorker(state, "--log-level", "info")
	for i, p := range points {
		target := int64(p * float64(exp.ChatRows))
		restarted := time.Now()
		waitFor(t, 5*time.Minute, "durable progress before a kill", func() bool {
			return e.progress() >= target && time.Since(restarted) > 1500*time.Millisecond
		})
		if t.Failed() {
			t.FailNow()
		}
		time.Sleep(time.Duration(rng.Intn(500)) * time.Millisecond)
		if !w.alive() {
			t.Fatalf("the worker exited by itself before kill %d", i+1)
		}
		before, committed := e.progress(), e.committed("wapipe", partitions)
		w.kill(t)
		t.Logf("kill %d at %v: %d/%d messages durable (aimed at %.0f%%), %d/%d offsets committed",
			i+1, time.Since(start).Round(time.Second), before, exp.ChatRows, 100*p, committed, len(tr.msgs))
		w = e.startWorker(state, "--log-level", "info")
	}

	// Every offset committed means every record is durable; then the counts must be exact.
	waitFor(t, 6*time.Minute, "every offset committed", func() bool {
		return e.committed("wapipe", partitions) == int64(len(tr.msgs))
	})
	e.expectCountedOnce(exp, 30*time.Second)
	e.expectReports(exp, 30*time.Second)
	t.Logf("everything durable and committed at %v", time.Since(start).Round(time.Second))

	// A clean restart over the committed offsets re-reads and re-writes nothing (merges are
	// stopped so that a second write would show in a plain count).
	w.stop(t)
	e.stopMerges()
	raw := e.rawCounts()
	w = e.startWorker(state)
	waitFor(t, 60*time.Second, "the restarted worker to be ready", func() bool { return w.ready() == 200 })
	time.Sleep(3 * time.Second)
	for table, n := range e.rawCounts() {
		if n != raw[table] {
			t.Errorf("%s: a restart over committed offsets wrote %d rows", table, n-raw[table])
		}
	}
	w.stop(t)
	t.Logf("%d webhooks, 3 kills: %v", len(tr.msgs), time.Since(start).Round(time.Second))
}
