package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wapipe/wapipe/gen"
)

// partitionsMigration is the migration that moved the report tables to month partitions.
const partitionsMigration = "schemas/migrations/008_swap_report_partitions.sql"

// buildBefore builds the wapipe of the commit before path was added, from git: the version an operator
// upgrades from. It skips when the repository's history is not there (an exported tree).
func buildBefore(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("git", "-C", "..", "log", "--diff-filter=A", "--format=%H", "--", path).Output()
	added := strings.TrimSpace(string(out))
	if err != nil || added == "" {
		t.Skipf("no git history for %s (%v): cannot build the version before it", path, err)
	}
	added = added[strings.LastIndex(added, "\n")+1:] // the first addition, should it have been re-added
	if err := exec.Command("git", "-C", "..", "rev-parse", "--verify", "-q", added+"^").Run(); err != nil {
		t.Skipf("the parent of %s is not in this clone (shallow?): cannot build the version before %s", added, path)
	}
	dir := t.TempDir()
	archive := exec.Command("bash", "-c", `git -C .. archive --format=tar "$0^" | tar -x -C "$1"`, added, dir)
	if b, err := archive.CombinedOutput(); err != nil {
		t.Fatalf("git archive %s^: %v\n%s", added, err, b)
	}
	bin := filepath.Join(dir, "wapipe-before")
	build := exec.Command("go", "build", "-o", bin, "./cmd/wapipe")
	build.Dir = dir
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the version before %s: %v\n%s", path, err, b)
	}
	return bin
}

// An operator upgrades a running deployment: the previous version's worker processes half the
// stream into the unpartitioned tables and stops; `wapipe migrate` moves the tables to month partitions;
// the new worker, on the old worker's state directory (its open messages have no first_event_at yet),
// processes the rest. FINAL gives exactly the generator's counts: nothing lost or doubled by the copy,
// and no message split over two partitions by its later versions.
func TestUpgradeToPartitionsKeepsEveryCount(t *testing.T) {
	before := buildBefore(t, partitionsMigration)
	e := newEnv(t, 3)
	// 6,000 bodies are about 5 hours of traffic: from 21:00 on May 31, messages of the old worker's
	// half get statuses after midnight, in June, from the new worker.
	tr := generateWith(gen.Config{Seed: 23, Webhooks: 6_000, Start: time.Date(2026, 5, 31, 21, 0, 0, 0, time.UTC)})
	msgs, exp := tr.msgs, tr.exp
	half := len(msgs) / 2
	e.produce(msgs[:half])
	state := t.TempDir()

	current := binary
	binary = before
	w := e.startWorker(state)
	binary = current
	waitFor(t, 90*time.Second, "the previous version to commit the first half", func() bool {
		return e.committed("wapipe", 3) == int64(half)
	})
	w.stop(t)
	if n := e.count("SELECT count() FROM system.columns WHERE database = '$db' AND name = 'first_event_at'"); n != 0 {
		t.Fatalf("the previous version's tables have first_event_at (%d): it is not the version before", n)
	}

	out, err := exec.Command(binary, "migrate", "--clickhouse", e.chAddr, "--database", e.database).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "008_swap_report_partitions") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	if n := e.count("SELECT count() FROM system.tables WHERE database = '$db' AND partition_key = 'toYYYYMM(first_event_at)'"); n != 3 {
		t.Errorf("%d partitioned tables after migrate, want the 3 report tables", n)
	}
	e.produce(msgs[half:])
	w = e.startWorker(state)
	e.expectReports(exp, 90*time.Second)
	e.expectExactCounts(exp)
	waitFor(t, 30*time.Second, "every offset committed", func() bool { return e.committed("wapipe", 3) == int64(len(msgs)) })
	// Every version of a key in one partition. FINAL alone would not tell: 18.16 merges across partitions
	// for it (with the old state read as having first_event_at 0 the counts above still held, and 63
	// messages had rows in two months).
	for table, key := range map[string]string{"chat_report": "message_id", "package_usage_report": "message_id", "voice_report": "call_id"} {
		q := "SELECT count() FROM (SELECT tenant_id, " + key + " FROM $db." + table + " GROUP BY tenant_id, " + key +
			" HAVING uniqExact(toYYYYMM(first_event_at)) > 1)"
		if n := e.count(q); n != 0 {
			t.Errorf("%s: %d keys in two months (%s)", table, n, q)
		}
	}
	if n := e.count("SELECT uniqExact(toYYYYMM(first_event_at)) FROM $db.chat_report"); n != 2 {
		t.Errorf("chat_report spans %d months, want May and June", n)
	}
	w.stop(t)
}
