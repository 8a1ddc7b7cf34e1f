package e2e

import (
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/wapipe/wapipe/gen"
)

// generate returns n generated webhooks as Kafka messages and what a correct pipeline writes.
func generate(n int, seed int64, poison float64) ([]kafka.Message, gen.Expected) {
	g := gen.New(gen.Config{Seed: seed, Webhooks: n, PoisonRate: poison})
	var msgs []kafka.Message
	for {
		b, ok := g.Next()
		if !ok {
			return msgs, g.Expected()
		}
		msgs = append(msgs, kafka.Message{Key: b.Key, Value: b.Value})
	}
}

// expectReports waits until every report table holds what the generator expects.
func (e *env) expectReports(exp gen.Expected, timeout time.Duration) {
	e.t.Helper()
	checks := []struct {
		query string
		want  int
	}{
		{"SELECT count() FROM $db.chat_report FINAL", exp.ChatRows},
		{"SELECT count() FROM $db.package_usage_report FINAL", exp.UsageRows},
		{"SELECT count() FROM $db.voice_report FINAL", exp.VoiceRows},
		{"SELECT count() FROM $db.leads FINAL WHERE touches > 0", exp.Leads},
		{"SELECT count() FROM $db.identities FINAL WHERE merged_into = ''", exp.Contacts},
	}
	for _, c := range checks {
		var got int64
		waitFor(e.t, timeout, c.query, func() bool { got = e.count(c.query); return got == int64(c.want) })
		if got != int64(c.want) {
			e.t.Fatalf("%s = %d, want %d", c.query, got, c.want)
		}
	}
	// Counts converge before everything is committed; give the last commit a moment.
	time.Sleep(1500 * time.Millisecond)
	for _, c := range checks {
		if got := e.count(c.query); got != int64(c.want) {
			e.t.Errorf("%s = %d, want %d", c.query, got, c.want)
		}
	}
}

// Ten thousand webhooks through the real Kafka protocol into a worker process end up as the
// expected report rows; a second start over the same group re-writes nothing committed.
func TestTenThousandWebhooksEndToEnd(t *testing.T) {
	e := newEnv(t, 6)
	msgs, exp := generate(10_000, 7, 0)
	e.produce(msgs)

	state := t.TempDir()
	w := e.startWorker(state)
	e.expectReports(exp, 90*time.Second)
	waitFor(t, 30*time.Second, "offsets committed for every record", func() bool {
		return e.committed("wapipe", 6) == int64(len(msgs))
	})
	w.stop(t)

	raw := e.count("SELECT count() FROM $db.chat_report")
	w = e.startWorker(state)
	waitFor(t, 30*time.Second, "the restarted worker to be ready", func() bool { return w.ready() == 200 })
	time.Sleep(3 * time.Second) // time enough to re-write anything it wrongly re-read
	if again := e.count("SELECT count() FROM $db.chat_report"); again != raw {
		t.Errorf("a restart over committed offsets wrote %d chat rows again", again-raw)
	}
	w.stop(t)
}
