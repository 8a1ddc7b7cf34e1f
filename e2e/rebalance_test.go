package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/wapipe/wapipe/gen"
)

// Three workers share a 6-partition topic, each with its own state and HTTP port. Mid-run a
// fourth joins, and later one of the first three is killed with SIGKILL (the group notices
// after the 10 s session timeout and hands its partitions over; what it had not committed is
// re-read by the new owner). At the end nothing is lost (every expected row under FINAL, every
// offset committed) and nothing is counted twice (touches, statuses, call seconds, one row per
// message). Twelve business numbers spread the traffic over every partition, so every worker
// has work and users who write to two numbers of one WABA cross partitions, as in production.
// WAPIPE_E2E_REBALANCE_WEBHOOKS sets the size (default 30,000).
func TestRebalanceLosesNothingCountsNothingTwice(t *testing.T) {
	start := time.Now()
	const partitions = 6
	n := envInt("WAPIPE_E2E_REBALANCE_WEBHOOKS", 30_000)
	e := newEnv(t, partitions)
	e.diagnoseIdentities()
	tr := generateWith(gen.Config{Seed: 9, Webhooks: n, Businesses: 12})
	exp := tr.exp
	t.Logf("%d webhooks; expecting %d chat rows, %d contacts, %d leads, %d touches", len(tr.msgs), exp.ChatRows, exp.Contacts, exp.Leads, exp.Referrals)
	cut := func(f float64) int { return int(f * float64(len(tr.msgs))) }
	e.produce(tr.msgs[:cut(0.6)])

	var workers []*worker
	e.diagnoseMessages(partitions)
	defer func() { // before the cleanups remove the logs
		for i, w := range workers {
			var gens []string
			for _, l := range w.logGrep(`"joined generation"`) {
				at := between(l, `"time":"`, `"`)
				if len(at) >= 23 {
					at = at[11:23]
				}
				gens = append(gens, at+" gen "+between(l, `"generation":`, `,`)+": "+between(l, `"partitions":`, `}`))
			}
			t.Logf("worker %d (%s): %s; %d warnings", i+1, w.http, strings.Join(gens, ", "), len(w.logGrep(`"level":"WARN"`)))
		}
	}()
	add := func() *worker {
		w := e.startWorker(t.TempDir(), "--log-level", "info")
		workers = append(workers, w)
		return w
	}
	for i := 0; i < 3; i++ {
		add()
	}
	waitFor(t, 2*time.Minute, "the three workers to own partitions", func() bool {
		for _, w := range workers {
			if w.ready() != 200 {
				return false
			}
		}
		return true
	})
	target := int64(0.2 * float64(exp.ChatRows))
	waitFor(t, 3*time.Minute, "20% of the messages durable", func() bool { return e.progress() >= target })
	if t.Failed() {
		t.FailNow()
	}

	fourth := add()
	t.Logf("fourth worker added at %v with %d/%d messages durable", time.Since(start).Round(time.Second), e.progress(), exp.ChatRows)
	e.produce(tr.msgs[cut(0.6):cut(0.8)])
	waitFor(t, 2*time.Minute, "the fourth worker to own partitions", func() bool { return fourth.ready() == 200 })
	target = int64(0.4 * float64(exp.ChatRows))
	waitFor(t, 3*time.Minute, "40% of the messages durable", func() bool { return e.progress() >= target })
	if t.Failed() {
		t.FailNow()
	}

	var victim *worker
	for _, w := range workers[:3] {
		if w.ready() == 200 {
			victim = w
			break
		}
	}
	if victim == nil {
		t.Fatal("none of the first three workers owns a partition any more")
	}
	before, committed := e.progress(), e.committed("wapipe", partitions)
	victim.kill(t)
	t.Logf("worker %s killed at %v with %d/%d messages durable, %d offsets committed",
		victim.http, time.Since(start).Round(time.Second), before, exp.ChatRows, committed)
	e.produce(tr.msgs[cut(0.8):])

	waitFor(t, 5*time.Minute, "every offset committed", func() bool {
		return e.committed("wapipe", partitions) == int64(len(tr.msgs))
	})
	// The workers share identity (contract 4 rule 8), so contacts and lead touches add up too.
	e.expectCountedOnce(exp, 30*time.Second)
	e.expectChecks([]countCheck{{"SELECT count() FROM $db.identities FINAL WHERE merged_into = ''", int64(exp.Contacts)}}, 30*time.Second)
	t.Logf("everything durable and committed at %v", time.Since(start).Round(time.Second))

	for _, w := range workers {
		if w == victim {
			continue
		}
		if !w.alive() {
			t.Errorf("worker %s exited during the rebalances", w.http)
			continue
		}
		w.stop(t)
	}
	t.Logf("%d webhooks, 4 workers, 1 killed: %v", len(tr.msgs), time.Since(start).Round(time.Second))
}

// between returns the text of s after the first from and before the next to.
func between(s, from, to string) string {
	_, rest, ok := strings.Cut(s, from)
	if !ok {
		return "?"
	}
	v, _, _ := strings.Cut(rest, to)
	return v
}
