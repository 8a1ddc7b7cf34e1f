package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/wapipe/wapipe/internal/connect"
	"github.com/wapipe/wapipe/sinks/deadletter"
)

const (
	testInput = "input"
	testDLQ   = "input.dlq"
)

// dlqWorld is a kfake broker with an input topic and a dead-letter topic of two partitions.
func dlqWorld(t *testing.T) (*kafkaLink, context.Context) {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, testInput, testDLQ))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	k := newKafkaLink(cluster.ListenAddrs(), &connect.KafkaLink{Transport: &kafka.Transport{}})
	t.Cleanup(k.close)
	return k, ctx
}

// deadLetter writes letters as the worker does.
func deadLetter(t *testing.T, ctx context.Context, k *kafkaLink, letters ...deadletter.Letter) {
	t.Helper()
	w, err := deadletter.New([]string{k.addr.String()}, testDLQ, k.transport)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, l := range letters { // one at a time: their times order them
		if err := w.Write(ctx, []deadletter.Letter{l}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// readInput reads every record of the input topic (both partitions).
func readInput(t *testing.T, ctx context.Context, k *kafkaLink) []*letter {
	t.Helper()
	var out []*letter
	if err := k.scan(ctx, testInput, true, func(l *letter) error { out = append(out, l); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	bodyA = []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]}],"secret":"PHONE-573015550142"}`)
	bodyB = []byte(`not json at all, PHONE-573009999999`)
	origA = []kafka.Header{{Key: "x-hub-signature-256", Value: []byte("sha256=aa")}, {Key: "x-received-at", Value: []byte("2026-12-07T10:00:00Z")}}
)

func twoLetters(t *testing.T, ctx context.Context, k *kafkaLink) {
	deadLetter(t, ctx, k,
		deadletter.Letter{Key: []byte("106540352242922"), Value: bodyA, Headers: origA, Stage: "process",
			Reason: "message wamid.BAD: from_user_id \"x\" is not a BSUID", Source: "input/1/17"},
		deadletter.Letter{Key: []byte("k2"), Value: bodyB, Stage: "decode", Reason: "body is not JSON", Source: "input/0/3"})
}

// dlq list prints each letter oldest first with its place, source, stage, x-received-at, size
// and reason, and never a body unless --body; --json gives the same as objects, --limit cuts.
func TestDLQListShowsLettersWithoutBodies(t *testing.T) {
	k, ctx := dlqWorld(t)
	twoLetters(t, ctx, k)

	var out bytes.Buffer
	n, err := listLetters(ctx, k, testDLQ, listOptions{}, &out)
	if err != nil || n != 2 {
		t.Fatalf("list: %d letters, %v", n, err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("list printed %d lines, want 2:\n%s", len(lines), out.String())
	}
	wantA := regexp.MustCompile(`^\d/\d+ \S+ source=input/1/17 stage=process received_at=2026-12-07T10:00:00Z body_size=` +
		itoa(len(bodyA)) + ` error="message wamid.BAD: from_user_id \\"x\\" is not a BSUID"$`)
	wantB := regexp.MustCompile(`^\d/\d+ \S+ source=input/0/3 stage=decode received_at=- body_size=` + itoa(len(bodyB)) + ` error="body is not JSON"$`)
	if !wantA.MatchString(lines[0]) || !wantB.MatchString(lines[1]) {
		t.Errorf("list, oldest first:\n%s\nwant lines matching\n%v\n%v", out.String(), wantA, wantB)
	}
	if strings.Contains(out.String(), "PHONE-") {
		t.Errorf("list without --body printed a body:\n%s", out.String())
	}

	out.Reset()
	if _, err := listLetters(ctx, k, testDLQ, listOptions{body: true}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), string(bodyA)+"\n") || !strings.Contains(out.String(), string(bodyB)+"\n") {
		t.Errorf("list --body lacks the bodies:\n%s", out.String())
	}

	out.Reset()
	if n, err := listLetters(ctx, k, testDLQ, listOptions{json: true, limit: 1}, &out); err != nil || n != 1 {
		t.Fatalf("list --json --limit 1: %d, %v", n, err)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("list --json: %v: %s", err, out.String())
	}
	for field, want := range map[string]any{"source": "input/1/17", "stage": "process", "received_at": "2026-12-07T10:00:00Z",
		"body_size": float64(len(bodyA)), "key": "106540352242922", "error": "message wamid.BAD: from_user_id \"x\" is not a BSUID"} {
		if got[field] != want {
			t.Errorf("list --json: %s = %v, want %v (%s)", field, got[field], want, out.String())
		}
	}
	for _, field := range []string{"partition", "offset", "time"} {
		if _, ok := got[field]; !ok {
			t.Errorf("list --json lacks %s: %s", field, out.String())
		}
	}
	if _, ok := got["body"]; ok {
		t.Errorf("list --json without --body printed the body: %s", out.String())
	}
}

// dlq replay sends each selected letter's body, key and original headers (no x-wapipe-*) back,
// naming the letter in x-wapipe-replay; --dry-run and --match send nothing or only what
// matches; a second replay sends nothing; the dead letter of a replay that fails again is
// not sent again (unless --again, and then without its predecessor).
func TestDLQReplayOnceAndNeverLoops(t *testing.T) {
	k, ctx := dlqWorld(t)
	twoLetters(t, ctx, k)

	res, err := replay(ctx, k, testDLQ, testInput, replayOptions{dryRun: true})
	if err != nil || res.sent != 2 || len(readInput(t, ctx, k)) != 0 {
		t.Fatalf("dry run: would send %d (%v), want 2; input has %d records", res.sent, err, len(readInput(t, ctx, k)))
	}
	res, err = replay(ctx, k, testDLQ, testInput, replayOptions{match: regexp.MustCompile(`BSUID`)})
	if err != nil || res.sent != 1 {
		t.Fatalf("replay --match BSUID: sent %d, %v; want 1", res.sent, err)
	}
	in := readInput(t, ctx, k)
	if len(in) != 1 {
		t.Fatalf("input has %d records after replaying one", len(in))
	}
	r := in[0]
	var letters []*letter
	if err := k.scan(ctx, testDLQ, false, func(l *letter) error { letters = append(letters, l); return nil }); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.value, bodyA) || string(r.key) != "106540352242922" {
		t.Errorf("replayed record: key %q body %q", r.key, r.value)
	}
	wantHeaders := []string{"x-hub-signature-256=sha256=aa", "x-received-at=2026-12-07T10:00:00Z", "x-wapipe-replay=" + letters[0].id(testDLQ)}
	if got := headerList(r.headers); strings.Join(got, " ") != strings.Join(wantHeaders, " ") {
		t.Errorf("replayed headers %v, want %v", got, wantHeaders)
	}

	// The rest: only the letter not replayed yet goes.
	if res, err = replay(ctx, k, testDLQ, testInput, replayOptions{}); err != nil || res.sent != 1 || res.replayed != 1 {
		t.Fatalf("second replay: %+v, %v; want 1 sent, 1 replayed before", res, err)
	}
	if res, err = replay(ctx, k, testDLQ, testInput, replayOptions{}); err != nil || res.sent != 0 || res.replayed != 2 {
		t.Fatalf("third replay: %+v, %v; want nothing sent, 2 replayed before", res, err)
	}
	var out bytes.Buffer
	if n, _ := listLetters(ctx, k, testDLQ, listOptions{}, &out); n != 2 {
		t.Errorf("list shows %d letters after the replays (its markers are no letters), want 2:\n%s", n, out.String())
	}

	// The worker dead-letters the replayed body A again (as it would): exactly that letter
	// is the one a replay could send, and only with --again.
	in = readInput(t, ctx, k)
	deadLetter(t, ctx, k, deadletter.Letter{Key: in[0].key, Value: in[0].value, Headers: in[0].headers, Stage: "process",
		Reason: "message wamid.BAD: still not a BSUID", Source: "input/1/40"})
	if res, err = replay(ctx, k, testDLQ, testInput, replayOptions{}); err != nil || res.sent != 0 || res.failures != 1 {
		t.Fatalf("replay after the failure: %+v, %v; want nothing sent, 1 failed again", res, err)
	}
	if res, err = replay(ctx, k, testDLQ, testInput, replayOptions{again: true}); err != nil || res.sent != 2 || res.superseded != 1 {
		t.Fatalf("replay --again: %+v, %v; want 2 sent (B and A's newer letter), A's first letter superseded", res, err)
	}
	in = readInput(t, ctx, k)
	if last := in[len(in)-1]; !bytes.Equal(last.value, bodyA) && !bytes.Equal(in[len(in)-2].value, bodyA) {
		t.Errorf("replay --again did not send body A")
	}
	out.Reset()
	_, _ = listLetters(ctx, k, testDLQ, listOptions{}, &out)
	if !strings.Contains(out.String(), "replay_of="+letters[0].id(testDLQ)) {
		t.Errorf("list does not show the failed replay's predecessor:\n%s", out.String())
	}
}

func headerList(h []kafka.Header) []string {
	var out []string
	for _, x := range h {
		out = append(out, x.Key+"="+string(x.Value))
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }
