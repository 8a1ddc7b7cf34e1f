package e2e

// Helpers of the crash, rebalance, duplicate and poison tests: SIGKILL, a broker of the
// test's own, traffic with poison kinds, raw (non-FINAL) counts with merges stopped, and the
// "nothing counted twice" checks that FINAL alone would hide.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/wapipe/wapipe/gen"
	"github.com/wapipe/wapipe/model"
)

// newEnvWith is newEnv with extra kfake options (e.g. a larger message.max.bytes).
func newEnvWith(t *testing.T, partitions int, opts ...kfake.Opt) *env {
	t.Helper()
	opts = append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(int32(partitions), topic, dlqTopic),
		kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(partitions)}, opts...)
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	e := &env{t: t, brokers: cluster.ListenAddrs()[0], chAddr: os.Getenv("WAPIPE_TEST_CLICKHOUSE"), cluster: cluster,
		database: fmt.Sprintf("wapipe_e2e_%d", rand.Int63())}
	e.conn = e.connect()
	t.Cleanup(func() {
		// Registered before any worker, so it runs after they are stopped: none recreates it.
		// Dropping 100,000 webhooks' tables on a busy machine took over 30 s: give it time, and
		// say (without failing the test) when it could not be confirmed.
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if err := e.conn.Exec(ctx, "DROP DATABASE IF EXISTS "+e.database); err != nil {
			t.Logf("drop %s: %v: the database may be left behind", e.database, err)
		}
		e.conn.Close()
	})
	return e
}

// traffic is generated webhooks with, per message, the poison kind ("" when valid).
type traffic struct {
	msgs   []kafka.Message
	poison []string
	exp    gen.Expected
}

func generateWith(cfg gen.Config) traffic {
	g := gen.New(cfg)
	var tr traffic
	for {
		b, ok := g.Next()
		if !ok {
			tr.exp = g.Expected()
			return tr
		}
		tr.msgs = append(tr.msgs, kafka.Message{Key: b.Key, Value: b.Value})
		tr.poison = append(tr.poison, b.Poison)
	}
}

// kill sends SIGKILL and waits until the process is gone.
func (w *worker) kill(t *testing.T) {
	t.Helper()
	if err := w.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill -9 worker %s: %v", w.http, err)
	}
	select {
	case err := <-w.exited:
		w.exited <- err
	case <-time.After(30 * time.Second):
		t.Fatalf("worker %s still running 30s after SIGKILL", w.http)
	}
}

// metric reads one unlabelled series from the worker's /metrics (-1 when absent).
func (w *worker) metric(name string) float64 {
	resp, err := httpGet("http://" + w.http + "/metrics")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(resp, "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}

// migrate creates the test database's tables before any worker starts.
func (e *env) migrate() {
	e.t.Helper()
	out, err := exec.Command(binary, "migrate", "--clickhouse", e.chAddr, "--database", e.database).CombinedOutput()
	if err != nil {
		e.t.Fatalf("wapipe migrate: %v\n%s", err, out)
	}
}

// stopMerges keeps every row ever inserted visible to a plain count(): ReplacingMergeTree
// merges would otherwise collapse re-written rows and hide a second write.
func (e *env) stopMerges() {
	e.t.Helper()
	for _, table := range model.Tables {
		if err := e.conn.Exec(context.Background(), fmt.Sprintf("SYSTEM STOP MERGES %s.%s", e.database, table)); err != nil {
			e.t.Fatalf("stop merges on %s: %v", table, err)
		}
	}
}

// rawCounts counts every row of every table, without FINAL.
func (e *env) rawCounts() map[string]int64 {
	out := map[string]int64{}
	for _, table := range model.Tables {
		out[table] = e.count("SELECT count() FROM $db." + table)
	}
	return out
}

// finalDigests is, per table, a digest of every column of every row under FINAL: what an
// analyst reads. Equal digests mean the same rows with the same contents and versions.
func (e *env) finalDigests() map[string]int64 {
	out := map[string]int64{}
	for _, table := range model.Tables {
		rows, err := e.conn.Query(context.Background(),
			"SELECT name FROM system.columns WHERE database = ? AND table = ? ORDER BY name", e.database, table)
		if err != nil {
			e.t.Fatal(err)
		}
		var cols []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				e.t.Fatal(err)
			}
			cols = append(cols, "ifNull(toString("+c+"), 'NULL')")
		}
		rows.Close()
		out[table] = e.count("SELECT toUInt64(sum(cityHash64(concat(" + strings.Join(cols, ", '|', ") + "))) % 1000000007) FROM $db." + table + " FINAL")
	}
	return out
}

// expectCountedOnce checks what FINAL would hide if something were counted twice or a replay
// went wrong: touches add up to the referrals (a lead touched twice by one message would show
// touches 2 under FINAL), every message is in its direction once, outbound messages show the
// final status the generator settled on, call seconds add up, and usage rows are one per message.
// It waits for convergence, then fails naming every difference.
func (e *env) expectCountedOnce(exp gen.Expected, timeout time.Duration) {
	e.t.Helper()
	e.expectChecks(append([]countCheck{{"SELECT sum(touches) FROM $db.leads FINAL", int64(exp.Referrals)}},
		messageChecks(exp)...), timeout)
}

// expectMessagesOnce is expectCountedOnce without the per-contact state (lead touches),
// which only agrees across workers once identity is shared between them.
func (e *env) expectMessagesOnce(exp gen.Expected, timeout time.Duration) {
	e.t.Helper()
	e.expectChecks(messageChecks(exp), timeout)
}

type countCheck struct {
	query string
	want  int64
}

// messageChecks count every message, status and call once, whoever processed them.
func messageChecks(exp gen.Expected) []countCheck {
	return []countCheck{
		{"SELECT count() FROM $db.chat_report FINAL", int64(exp.ChatRows)},
		{"SELECT count() FROM $db.package_usage_report FINAL", int64(exp.UsageRows)},
		{"SELECT count() FROM $db.voice_report FINAL", int64(exp.VoiceRows)},
		{"SELECT countIf(direction = 'inbound') FROM $db.chat_report FINAL", int64(exp.InboundMessages)},
		{"SELECT countIf(direction = 'outbound') FROM $db.chat_report FINAL", int64(exp.OutboundMessages)},
		{"SELECT countIf(direction = 'outbound' AND status = 'sent') FROM $db.chat_report FINAL", int64(exp.OutboundSent)},
		{"SELECT countIf(direction = 'outbound' AND status = 'delivered') FROM $db.chat_report FINAL", int64(exp.OutboundDelivered)},
		{"SELECT countIf(direction = 'outbound' AND status = 'read') FROM $db.chat_report FINAL", int64(exp.OutboundRead)},
		{"SELECT countIf(direction = 'outbound' AND status = 'failed') FROM $db.chat_report FINAL", int64(exp.OutboundFailed)},
		{"SELECT sum(duration_seconds) FROM $db.voice_report FINAL", exp.CallSeconds},
		{"SELECT uniqExact(tenant_id, message_id) FROM $db.package_usage_report", int64(exp.UsageRows)},
		{"SELECT uniqExact(tenant_id, message_id) FROM $db.chat_report", int64(exp.ChatRows)},
		{"SELECT uniqExact(tenant_id, call_id) FROM $db.voice_report", int64(exp.VoiceRows)},
	}
}

func (e *env) expectChecks(checks []countCheck, timeout time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var bad []string
		for _, c := range checks {
			if got := e.count(c.query); got != c.want {
				bad = append(bad, fmt.Sprintf("%s = %d, want %d", c.query, got, c.want))
			}
		}
		if len(bad) == 0 {
			return
		}
		if time.Now().After(deadline) {
			e.t.Errorf("counted-once checks differ after %v:\n  %s", timeout, strings.Join(bad, "\n  "))
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// progress is how many distinct messages are durable in chat_report (-1 before the table exists).
func (e *env) progress() int64 {
	return e.count("SELECT uniqExact(tenant_id, message_id) FROM $db.chat_report")
}

// readLetters reads the dead-letter topic from the start until want letters arrived or timeout
// passed, then keeps reading for grace to catch letters beyond want.
func (e *env) readLetters(want int, timeout, grace time.Duration) []letter {
	e.t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{e.brokers}, Topic: dlqTopic,
		GroupID: fmt.Sprintf("e2e-letters-%d", rand.Int63()), StartOffset: kafka.FirstOffset,
		MaxWait: 100 * time.Millisecond, MaxBytes: 16 << 20})
	defer r.Close()
	var out []letter
	deadline := time.Now().Add(timeout)
	for {
		end := deadline
		if len(out) >= want {
			end = time.Now().Add(grace)
			deadline = end
		}
		ctx, cancel := context.WithDeadline(context.Background(), end)
		m, err := r.FetchMessage(ctx)
		cancel()
		if err != nil {
			return out
		}
		out = append(out, letter{m})
	}
}

var sourceRe = regexp.MustCompile(`^` + regexp.QuoteMeta(topic) + `/\d+/\d+$`)

// logGrep returns the worker log's lines that contain s.
func (w *worker) logGrep(s string) []string {
	b, _ := os.ReadFile(w.logs)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func envInt64(name string, def int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil {
		return v
	}
	return def
}

func httpGet(url string) (string, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// genConfig is the configuration the harness's generate uses.
func genConfig(n int, seed int64) gen.Config { return gen.Config{Seed: seed, Webhooks: n} }

// diagnoseIdentities logs, when the test failed, the contacts that report rows name but that
// have no identities row, and the BSUIDs of report rows that contact_keys does not know: what
// a lost identity write looks like in ClickHouse. Register it after the env, so it runs before
// the database is dropped.
func (e *env) diagnoseIdentities() {
	e.t.Cleanup(func() {
		if !e.t.Failed() {
			return
		}
		for _, q := range []string{
			"SELECT count() FROM $db.identities FINAL",
			"SELECT countIf(merged_into = '') FROM $db.identities FINAL",
			"SELECT count() FROM $db.contact_keys FINAL",
			"SELECT count() FROM (SELECT DISTINCT contact_id FROM $db.chat_report WHERE contact_id != '') WHERE contact_id NOT IN (SELECT contact_id FROM $db.identities)",
			"SELECT count() FROM (SELECT DISTINCT contact_id FROM $db.voice_report WHERE contact_id != '') WHERE contact_id NOT IN (SELECT contact_id FROM $db.identities)",
			"SELECT count() FROM (SELECT DISTINCT contact_id FROM $db.leads WHERE contact_id != '') WHERE contact_id NOT IN (SELECT contact_id FROM $db.identities)",
			"SELECT count() FROM (SELECT DISTINCT bsuid FROM $db.chat_report WHERE bsuid != '') WHERE bsuid NOT IN (SELECT key_value FROM $db.contact_keys WHERE key_type = 'bsuid')",
			"SELECT count() FROM (SELECT DISTINCT assumeNotNull(phone) AS p FROM $db.chat_report WHERE phone IS NOT NULL) WHERE p NOT IN (SELECT key_value FROM $db.contact_keys WHERE key_type = 'phone')",
			// One person, two live contacts: a BSUID or phone on more than one unmerged contact.
			"SELECT count() FROM (SELECT tenant_id, bsuid FROM $db.identities FINAL WHERE merged_into = '' AND bsuid IS NOT NULL GROUP BY tenant_id, bsuid HAVING count() > 1)",
			"SELECT count() FROM (SELECT tenant_id, phone FROM $db.identities FINAL WHERE merged_into = '' AND phone IS NOT NULL GROUP BY tenant_id, phone HAVING count() > 1)",
			// One person and ad, two live leads.
			"SELECT count() FROM (SELECT tenant_id, ad_source_id, bsuid FROM $db.leads FINAL WHERE touches > 0 AND bsuid != '' GROUP BY tenant_id, ad_source_id, bsuid HAVING count() > 1)",
		} {
			e.t.Logf("diagnosis: %s = %d", strings.ReplaceAll(q, "$db.", ""), e.count(q))
		}
		split := strings.ReplaceAll(`SELECT tenant_id, assumeNotNull(bsuid), contact_id, ifNull(phone, ''), ifNull(username, ''), phone_source, first_seen
			FROM $db.identities FINAL WHERE merged_into = '' AND (tenant_id, assumeNotNull(bsuid)) IN
			(SELECT tenant_id, assumeNotNull(bsuid) FROM $db.identities FINAL WHERE merged_into = '' AND bsuid IS NOT NULL
			 GROUP BY tenant_id, bsuid HAVING count() > 1 ORDER BY tenant_id, bsuid LIMIT 3) ORDER BY tenant_id, bsuid, first_seen`, "$db", e.database)
		if rows, err := e.conn.Query(context.Background(), split); err == nil {
			for rows.Next() {
				var tenant, bsuid, id, phone, username, source string
				var first time.Time
				if rows.Scan(&tenant, &bsuid, &id, &phone, &username, &source, &first) == nil {
					e.t.Logf("diagnosis: live contact of a split person: tenant %s bsuid %s contact %s phone %q (%s) username %q first_seen %s",
						tenant, bsuid, id, phone, source, username, first.Format(time.RFC3339))
				}
			}
			rows.Close()
		} else {
			e.t.Logf("diagnosis: %v", err)
		}
		q := strings.ReplaceAll(`SELECT contact_id, any(bsuid), any(assumeNotNull(phone)), min(sent_at), count() FROM $db.chat_report
			WHERE contact_id != '' AND contact_id NOT IN (SELECT contact_id FROM $db.identities)
			GROUP BY contact_id ORDER BY min(sent_at) LIMIT 10`, "$db", e.database)
		rows, err := e.conn.Query(context.Background(), q)
		if err != nil {
			e.t.Logf("diagnosis: %v", err)
			return
		}
		defer rows.Close()
		for rows.Next() {
			var id, bsuid, phone string
			var first time.Time
			var n uint64
			if err := rows.Scan(&id, &bsuid, &phone, &first, &n); err != nil {
				e.t.Logf("diagnosis: %v", err)
				return
			}
			e.t.Logf("diagnosis: contact %s (bsuid %q, phone %q) first in chat_report at %s, %d rows, has no identities row",
				id, bsuid, phone, first.Format(time.RFC3339), n)
		}
	})
}

// position is where a record sits in the input topic.
type position struct {
	partition int
	offset    int64
}

func (p position) String() string { return fmt.Sprintf("%d/%d", p.partition, p.offset) }

// topicRecords reads every record of the input topic back from the broker.
func (e *env) topicRecords(partitions int) map[position][]byte {
	e.t.Helper()
	out := map[position][]byte{}
	for p := 0; p < partitions; p++ {
		conn, err := kafka.DialLeader(context.Background(), "tcp", e.brokers, topic, p)
		if err != nil {
			e.t.Logf("diagnosis: dial partition %d: %v", p, err)
			continue
		}
		last, err := conn.ReadLastOffset()
		conn.Close()
		if err != nil || last == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{e.brokers}, Topic: topic, Partition: p,
			MaxBytes: 16 << 20, MaxWait: 100 * time.Millisecond})
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		for {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				e.t.Logf("diagnosis: read partition %d: %v", p, err)
				break
			}
			out[position{p, m.Offset}] = m.Value
			if m.Offset >= last-1 {
				break
			}
		}
		cancel()
		r.Close()
	}
	return out
}

// minimal webhook shape, for recounting messages and statuses from the bodies themselves.
type hookMin struct {
	Object string `json:"object"`
	Entry  []struct {
		ID      string `json:"id"`
		Changes []struct {
			Value struct {
				Messages []struct {
					ID   string `json:"id"`
					Type string `json:"type"`
				} `json:"messages"`
				Statuses []struct {
					ID     string `json:"id"`
					Status string `json:"status"`
				} `json:"statuses"`
			} `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

var statusRank = map[string]int{"sent": 1, "delivered": 2, "read": 3, "played": 4, "failed": 5}

// diagnoseMessages logs, when the test failed, the messages whose chat_report row is missing or
// shows a lower status than the bodies carry, with the topic positions of every record that
// names them and the rows written for them.
func (e *env) diagnoseMessages(partitions int) {
	e.t.Cleanup(func() {
		if !e.t.Failed() {
			return
		}
		type want struct {
			rank  int
			where []position
		}
		wants := map[string]*want{} // tenant NUL message id
		for pos, body := range e.topicRecords(partitions) {
			var h hookMin
			if json.Unmarshal(body, &h) != nil || h.Object != "whatsapp_business_account" {
				continue
			}
			for _, en := range h.Entry {
				for _, ch := range en.Changes {
					for _, m := range ch.Value.Messages {
						if m.Type == "system" || m.ID == "" {
							continue
						}
						k := en.ID + "\x00" + m.ID
						if wants[k] == nil {
							wants[k] = &want{}
						}
						wants[k].where = append(wants[k].where, pos)
					}
					for _, s := range ch.Value.Statuses {
						if strings.HasPrefix(s.ID, "wacid.") {
							continue // a call's status: voice_report
						}
						k := en.ID + "\x00" + s.ID
						if wants[k] == nil {
							wants[k] = &want{}
						}
						wants[k].rank = max(wants[k].rank, statusRank[s.Status])
						wants[k].where = append(wants[k].where, pos)
					}
				}
			}
		}
		got := map[string]string{}
		rows, err := e.conn.Query(context.Background(), "SELECT tenant_id, message_id, status FROM "+e.database+".chat_report FINAL")
		if err != nil {
			e.t.Logf("diagnosis: %v", err)
			return
		}
		for rows.Next() {
			var tenant, id, status string
			if rows.Scan(&tenant, &id, &status) == nil {
				got[tenant+"\x00"+id] = status
			}
		}
		rows.Close()
		shown := 0
		for k, w := range wants {
			status, ok := got[k]
			problem := ""
			switch {
			case !ok:
				problem = "no chat_report row"
			case w.rank > 0 && statusRank[status] < w.rank:
				problem = fmt.Sprintf("status %q below the best status the bodies carry (rank %d)", status, w.rank)
			default:
				continue
			}
			if shown++; shown > 12 {
				continue
			}
			tenant, id, _ := strings.Cut(k, "\x00")
			sort.Slice(w.where, func(i, j int) bool {
				return w.where[i].partition < w.where[j].partition ||
					w.where[i].partition == w.where[j].partition && w.where[i].offset < w.where[j].offset
			})
			var raw []string
			q := fmt.Sprintf("SELECT status, version, contact_id FROM %s.chat_report WHERE tenant_id = '%s' AND message_id = '%s' ORDER BY version", e.database, tenant, id)
			if rs, err := e.conn.Query(context.Background(), q); err == nil {
				for rs.Next() {
					var st, c string
					var v uint64
					if rs.Scan(&st, &v, &c) == nil {
						raw = append(raw, fmt.Sprintf("%s v%d %s", st, v, c))
					}
				}
				rs.Close()
			}
			e.t.Logf("diagnosis: tenant %s message %s: %s; in records %v; rows as written: %v", tenant, id, problem, w.where, raw)
		}
		e.t.Logf("diagnosis: %d messages missing or with a lower status", shown)
	})
}
