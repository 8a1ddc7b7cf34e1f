package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// privateClickHouse starts a ClickHouse of this test's own (so stopping it disturbs no other
// test) through the project's script, and returns a control function for it.
func privateClickHouse(t *testing.T) (addr string, ctl func(verb string)) {
	t.Helper()
	native, httpPort := freePort(t), freePort(t)
	_, nport, _ := net.SplitHostPort(native)
	_, hport, _ := net.SplitHostPort(httpPort)
	dir := filepath.Join(t.TempDir(), "clickhouse")
	ctl = func(verb string) {
		t.Helper()
		cmd := exec.Command("../scripts/clickhouse.sh", verb)
		cmd.Env = append(os.Environ(), "WAPIPE_CH_DIR="+dir, "WAPIPE_CH_PORT="+nport, "WAPIPE_CH_HTTP_PORT="+hport)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("clickhouse.sh %s: %v\n%s", verb, err, out)
		}
	}
	ctl("start")
	t.Cleanup(func() { ctl("stop") })
	return native, ctl
}

// ClickHouse goes away mid-stream: the worker stays up, /readyz turns false, offsets do not
// advance past what is durable, and once ClickHouse is back every row is present.
func TestClickHouseOutageLosesNothing(t *testing.T) {
	addr, ctl := privateClickHouse(t)
	t.Setenv("WAPIPE_TEST_CLICKHOUSE", addr)
	e := newEnv(t, 3)
	msgs, exp := generate(6_000, 11, 0)
	half := len(msgs) / 2
	e.produce(msgs[:half])

	w := e.startWorker(t.TempDir())
	waitFor(t, 90*time.Second, "the first half to be committed", func() bool {
		return e.committed("wapipe", 3) == int64(half)
	})
	waitFor(t, 10*time.Second, "/readyz to say ready", func() bool { return w.ready() == 200 })

	ctl("stop")
	stopped := time.Now()
	e.produce(msgs[half:])
	waitFor(t, 30*time.Second, "/readyz to say not ready while ClickHouse is down", func() bool { return w.ready() == 503 })
	time.Sleep(time.Until(stopped.Add(20 * time.Second))) // a 20 s outage; the worker fetches and retries meanwhile
	if got := e.committed("wapipe", 3); got != int64(half) {
		t.Errorf("offsets moved to %d while ClickHouse was down; want %d", got, half)
	}
	if !w.alive() {
		t.Fatal("the worker exited while ClickHouse was down")
	}

	ctl("start")
	e.conn = e.connect()
	e.expectReports(exp, 90*time.Second)
	waitFor(t, 30*time.Second, "every offset committed after the outage", func() bool {
		return e.committed("wapipe", 3) == int64(len(msgs))
	})
	waitFor(t, 10*time.Second, "/readyz to recover", func() bool { return w.ready() == 200 })
	w.stop(t)
}

// A worker started before ClickHouse is up answers /healthz and says on /readyz what it waits
// for, then processes everything once ClickHouse comes; SIGTERM while it waits is a clean stop.
func TestWorkerStartedBeforeClickHouseWaitsForIt(t *testing.T) {
	addr, ctl := privateClickHouse(t)
	t.Setenv("WAPIPE_TEST_CLICKHOUSE", addr)
	e := newEnv(t, 1)
	msgs, exp := generate(500, 13, 0)
	e.produce(msgs)
	ctl("stop")

	w := e.startWorker(t.TempDir())
	waitFor(t, 15*time.Second, "/readyz to answer 503 while ClickHouse is down", func() bool { return w.ready() == 503 })
	if code := w.get("/healthz"); code != 200 {
		t.Errorf("/healthz while waiting for ClickHouse: %d, want 200", code)
	}
	waiting := e.startWorker(t.TempDir())
	waitFor(t, 15*time.Second, "a second waiting worker's /readyz", func() bool { return waiting.ready() == 503 })
	waiting.stop(t) // exit status 0, or stop fails the test

	ctl("start")
	e.conn = e.connect()
	e.expectReports(exp, 90*time.Second)
	waitFor(t, 30*time.Second, "/readyz to say ready once ClickHouse is up", func() bool { return w.ready() == 200 })
	w.stop(t)
}

// A body that is not JSON, one that is not a WhatsApp webhook, and a body with three messages of
// which one is invalid: the first two are dead-lettered whole; the third yields two report rows
// and one dead letter that names the invalid message; the worker keeps going.
func TestDeadLettersCarryReasonsAndValidSiblingsGoOn(t *testing.T) {
	e := newEnv(t, 1)
	valid, exp := generate(200, 3, 0)
	three := threeMessagesOneInvalid()
	bad := [][]byte{[]byte("this is not json"), []byte(`{"object":"page","entry":[]}`), three}
	for _, b := range bad {
		valid = append(valid, kafkaMessage(b))
	}
	e.produce(valid)
	w := e.startWorker(t.TempDir())
	exp.ChatRows += 2 // the valid siblings of the invalid message
	exp.Contacts++    // their sender
	e.expectReports(exp, 60*time.Second)

	letters := e.deadLetters(3, 30*time.Second)
	if len(letters) != 3 {
		t.Fatalf("got %d dead letters, want 3", len(letters))
	}
	for i, l := range letters {
		if string(l.Value) != string(bad[i]) {
			t.Errorf("dead letter %d: value is not the original bytes", i)
		}
		if src := l.header("x-wapipe-source"); src != fmt.Sprintf("%s/0/%d", topic, len(valid)-3+i) {
			t.Errorf("dead letter %d: x-wapipe-source = %q", i, src)
		}
		if l.header("x-wapipe-stage") == "" || l.header("x-wapipe-error") == "" {
			t.Errorf("dead letter %d lacks stage or error headers: %v", i, l.Headers)
		}
	}
	if reason := letters[2].header("x-wapipe-error"); !strings.Contains(reason, "wamid.INVALID") || !strings.Contains(reason, "BSUID") {
		t.Errorf("the reason should name the invalid message and why: %q", reason)
	}
	if n := e.count("SELECT count() FROM $db.chat_report FINAL WHERE message_id IN ('wamid.OK1', 'wamid.OK2')"); n != 2 {
		t.Errorf("valid siblings of an invalid message: %d rows, want 2", n)
	}
	if !w.alive() {
		t.Fatal("worker died on bad input")
	}
	for _, reason := range []string{"not_json", "not_whatsapp", "invalid_event"} {
		if n := w.metricSum("wapipe_dead_letters_total", `stage="decode"`, `reason="`+reason+`"`); n != 1 {
			t.Errorf("wapipe_dead_letters_total{stage=decode,reason=%s} = %v, want 1", reason, n)
		}
	}
	if logged := w.logGrep(`"msg":"dead letter"`); len(logged) != 3 || strings.Contains(strings.Join(logged, ""), "this is not json") {
		t.Errorf("want 3 dead letters logged at warn without their bodies, got:\n%s", strings.Join(logged, "\n"))
	}
	w.stop(t)
}
