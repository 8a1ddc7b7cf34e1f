package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// Contract section 10, as an operator uses it: a body over --max-body-bytes and a body
// with one invalid event are dead-lettered; the worker restarts with the limit raised;
// `wapipe dlq list` shows both with their reasons and no body; `wapipe dlq replay` sends
// them back. Then the large body's message is counted, the valid siblings of the invalid
// event, counted the first time, are still counted once (FINAL), the invalid event fails
// again into exactly one new dead letter, and a second replay sends nothing.
func TestDeadLettersReplayedOnceTheCauseIsGone(t *testing.T) {
	e := newEnv(t, 1)
	long := inboundBody(inMsg{id: "wamid.E2E.LONG", bsuid: "CO.18830092211746650032", phone: "573015550143",
		name: "Long", text: strings.Repeat("palabra ", 400), ts: 1_781_004_700})
	e.produce([]kafka.Message{kafkaMessage(threeMessagesOneInvalid()), kafkaMessage(long)})

	state := t.TempDir()
	w := e.startWorker(state, "--max-body-bytes", "2048")
	if got := deadLettersOnly(e.readLetters(2, 60*time.Second, time.Second)); len(got) != 2 {
		t.Fatalf("%d dead letters, want the long body and the invalid event's body", len(got))
	}
	ids := `message_id IN ('wamid.OK1', 'wamid.OK2', 'wamid.E2E.LONG')`
	waitFor(t, 60*time.Second, "the two valid siblings counted", func() bool {
		return e.count("SELECT count() FROM $db.chat_report FINAL WHERE "+ids) == 2
	})
	w.stop(t)

	w = e.startWorker(state) // the cause removed: the default 3 MiB limit
	defer w.stop(t)
	list := dlq(t, e, "list")
	if n := strings.Count(list, "\n"); n != 2 || !strings.Contains(list, "limit") || !strings.Contains(list, "BSUID") ||
		strings.Contains(list, "palabra") {
		t.Fatalf("dlq list printed %d lines, want both letters with their reasons and no body:\n%s", n, list)
	}
	if out := dlq(t, e, "replay"); !strings.Contains(out, "sent 2 ") {
		t.Fatalf("dlq replay: %s", out)
	}
	waitFor(t, 60*time.Second, "the replayed long body counted", func() bool {
		return e.count("SELECT count() FROM $db.chat_report FINAL WHERE "+ids) == 3
	})
	if got := deadLettersOnly(e.readLetters(5, 60*time.Second, 2*time.Second)); len(got) != 3 || got[2].header("x-wapipe-replay") == "" ||
		!strings.Contains(got[2].header("x-wapipe-error"), "BSUID") {
		t.Fatalf("%d dead letters after the replay, want the two and one new one for the invalid event, naming its replay", len(got))
	}
	if n := e.count("SELECT count() FROM $db.chat_report FINAL WHERE " + ids); n != 3 {
		t.Fatalf("%d chat_report rows (FINAL) for the three valid messages after the replay", n)
	}
	if out := dlq(t, e, "replay"); !strings.Contains(out, "sent 0 ") {
		t.Fatalf("a second dlq replay: %s", out)
	}
}

func dlq(t *testing.T, e *env, args ...string) string {
	t.Helper()
	out, err := exec.Command(binary, append(append([]string{"dlq"}, args...), "--brokers", e.brokers)...).Output()
	if err != nil {
		t.Fatalf("wapipe dlq %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// deadLettersOnly drops the records of the dead-letter topic that are no dead letters: the
// markers `dlq replay` writes (x-wapipe-replayed, no value).
func deadLettersOnly(ls []letter) []letter {
	var out []letter
	for _, l := range ls {
		if l.header("x-wapipe-replayed") == "" {
			out = append(out, l)
		}
	}
	return out
}
