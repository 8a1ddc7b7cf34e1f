package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// A business of the duplicate test's own, apart from the generator's.
const (
	dupWABA    = "990000000000001"
	dupPNID    = "990000000000011"
	dupDisplay = "15550009999"
)

// inMsg is one inbound text message of a user who shows phone and BSUID.
type inMsg struct {
	id, bsuid, phone, name, text, ad string
	ts                               int64
}

// inboundBody renders messages as one webhook body of the test business. Its contacts[] run
// in reverse order of messages[], as Meta's sometimes do.
func inboundBody(msgs ...inMsg) []byte {
	var contacts, messages []string
	seen := map[string]bool{}
	for _, m := range msgs {
		if !seen[m.bsuid] {
			seen[m.bsuid] = true
			contacts = append([]string{fmt.Sprintf(`{"profile":{"name":%q},"wa_id":%q,"user_id":%q}`, m.name, m.phone, m.bsuid)}, contacts...)
		}
		s := fmt.Sprintf(`{"from":%q,"from_user_id":%q,"id":%q,"timestamp":"%d","type":"text","text":{"body":%q}`,
			m.phone, m.bsuid, m.id, m.ts, m.text)
		if m.ad != "" {
			s += fmt.Sprintf(`,"referral":{"source_url":"https://fb.me/e2e","source_id":%q,"source_type":"ad","body":"Promo","headline":"Chat with us","media_type":"image","ctwa_clid":"clid-%s"}`, m.ad, m.id)
		}
		messages = append(messages, s+"}")
	}
	return []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":%q,"changes":[{"field":"messages","value":{`+
		`"messaging_product":"whatsapp","metadata":{"display_phone_number":%q,"phone_number_id":%q},`+
		`"contacts":[%s],"messages":[%s]}}]}]}`, dupWABA, dupDisplay, dupPNID,
		strings.Join(contacts, ","), strings.Join(messages, ",")))
}

func dupMessage(body []byte) kafka.Message { return kafka.Message{Key: []byte(dupPNID), Value: body} }

// The same body delivered twice (back to back, and again once the first is durable, and
// again after a restart), and one message inside three differently batched bodies: each
// message is one row — not only under FINAL but as written (merges are stopped, so a second
// write would show in a plain count) — and a referral repeated that way is one touch. The
// generator's own re-deliveries and re-batched messages run alongside.
func TestDuplicatesGiveOneRow(t *testing.T) {
	start := time.Now()
	e := newEnv(t, 3)
	tr := generateWith(genConfig(3_000, 21))
	exp := tr.exp
	if exp.Duplicates == 0 || exp.Rebatched == 0 {
		t.Fatalf("the generated stream should hold re-deliveries and re-batched messages: %+v", exp)
	}

	ts := int64(1_780_300_000)
	user := func(i int) (string, string, string) {
		return fmt.Sprintf("ZZ.90000000000000000%02d", i), fmt.Sprintf("9990000000%02d", i), fmt.Sprintf("Dup User %d", i)
	}
	msg := func(i int, id, ad string) inMsg {
		b, p, n := user(i)
		return inMsg{id: id, bsuid: b, phone: p, name: n, text: "hola " + id, ad: ad, ts: ts + int64(i)}
	}
	mA := msg(1, "wamid.E2E.DUP.A", "E2E-AD-1") // the same body twice, with a referral
	mB := msg(2, "wamid.E2E.DUP.B", "")         // the same body again once durable
	mC := msg(3, "wamid.E2E.DUP.C", "")
	mD := msg(4, "wamid.E2E.DUP.D", "E2E-AD-2") // inside three different batches, with a referral
	mE := msg(5, "wamid.E2E.DUP.E", "")
	bodyA, bodyB := inboundBody(mA), inboundBody(mB)
	batch1, batch2, batch3 := inboundBody(mC, mD), inboundBody(mE, mD), inboundBody(mD)
	for _, b := range [][]byte{batch1, batch2, batch3} {
		if !strings.Contains(string(b), mD.id) {
			t.Fatal("a re-batched body lacks the repeated message")
		}
	}
	ids := []string{mA.id, mB.id, mC.id, mD.id, mE.id}
	exp.ChatRows += 5
	exp.InboundMessages += 5
	exp.Contacts += 5
	exp.Leads += 2
	exp.Referrals += 2

	// Phase 1: the first half of the stream, body A twice in a row, body B, two batches holding D.
	half := len(tr.msgs) / 2
	phase1 := append(append([]kafka.Message{}, tr.msgs[:half]...),
		dupMessage(bodyA), dupMessage(bodyA), dupMessage(bodyB), dupMessage(batch1), dupMessage(batch2))
	// Phase 2, once phase 1 is durable: the rest, body B again, a third batch holding D.
	phase2 := append(append([]kafka.Message{}, tr.msgs[half:]...), dupMessage(bodyB), dupMessage(batch3))
	// Phase 3, after a restart over the same state: all of them again.
	phase3 := []kafka.Message{dupMessage(bodyA), dupMessage(bodyB), dupMessage(batch1), dupMessage(batch2), dupMessage(batch3)}

	e.migrate()
	e.stopMerges()
	state := t.TempDir()
	e.produce(phase1)
	w := e.startWorker(state)
	total := int64(len(phase1))
	waitFor(t, 90*time.Second, "phase 1 committed", func() bool { return e.committed("wapipe", 3) == total })
	e.produce(phase2)
	total += int64(len(phase2))
	waitFor(t, 90*time.Second, "phase 2 committed", func() bool { return e.committed("wapipe", 3) == total })
	e.expectReports(exp, 30*time.Second)
	e.expectCountedOnce(exp, 10*time.Second)

	// As written, not only under FINAL: one chat row per message, one lead row per ad, and one
	// inbound row per distinct inbound message of the whole stream.
	for _, id := range ids {
		if n := e.count("SELECT count() FROM $db.chat_report WHERE message_id = '" + id + "'"); n != 1 {
			t.Errorf("chat_report holds %d rows of %s (without FINAL), want 1", n, id)
		}
	}
	for _, ad := range []string{"E2E-AD-1", "E2E-AD-2"} {
		if n := e.count("SELECT count() FROM $db.leads WHERE ad_source_id = '" + ad + "'"); n != 1 {
			t.Errorf("leads holds %d rows for %s (without FINAL), want 1", n, ad)
		}
		if n := e.count("SELECT sum(touches) FROM $db.leads FINAL WHERE ad_source_id = '" + ad + "'"); n != 1 {
			t.Errorf("lead %s has %d touches, want 1", ad, n)
		}
	}
	if n := e.count("SELECT count() FROM $db.chat_report WHERE direction = 'inbound'"); n != int64(exp.InboundMessages) {
		t.Errorf("inbound chat rows as written = %d, want %d (one per distinct message)", n, exp.InboundMessages)
	}
	if d := w.metric("wapipe_events_duplicate_total"); d <= 0 {
		t.Errorf("wapipe_events_duplicate_total = %v: no duplicate was dropped", d)
	}

	// Phase 3: a restart over the same state and committed offsets, and the same bodies
	// delivered again afterwards: what FINAL shows does not change, row for row, version for
	// version. The restarted worker's seen-set is empty (stages/dedupe keeps it in memory), so
	// it may write rows again, with the same keys, contents and versions.
	w.stop(t)
	digests := e.finalDigests()
	w = e.startWorker(state)
	waitFor(t, 30*time.Second, "the restarted worker to be ready", func() bool { return w.ready() == 200 })
	e.produce(phase3)
	total += int64(len(phase3))
	waitFor(t, 60*time.Second, "phase 3 committed", func() bool { return e.committed("wapipe", 3) == total })
	time.Sleep(2 * time.Second)
	for table, d := range e.finalDigests() {
		if d != digests[table] || d < 0 {
			t.Errorf("%s: FINAL shows other rows after the restart and the re-deliveries (digest %d, was %d)", table, d, digests[table])
		}
	}
	e.expectReports(exp, 10*time.Second)
	w.stop(t)
	t.Logf("%d webhooks (%d re-deliveries, %d re-batched by the generator) in %v",
		total, exp.Duplicates, exp.Rebatched, time.Since(start).Round(time.Second))
}
