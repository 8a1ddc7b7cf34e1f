package deadletter

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
)

// A replayed body keeps its original headers, loses every x-wapipe-* one (whatever its case,
// including the cut marker and the previous replay's), and names the letter it came from.
func TestReplayHeadersStripWapipeHeaders(t *testing.T) {
	in := []kafka.Header{
		{Key: "x-hub-signature-256", Value: []byte("sha256=ab")},
		{Key: HeaderError, Value: []byte("bad")},
		{Key: "x-received-at", Value: []byte("2026-12-07T10:00:00Z")},
		{Key: HeaderStage, Value: []byte("decode")},
		{Key: HeaderSource, Value: []byte("t/0/1")},
		{Key: HeaderOriginalSize, Value: []byte("9")},
		{Key: HeaderReplay, Value: []byte("dlq/0/0")},
		{Key: "X-Wapipe-Custom", Value: []byte("x")},
	}
	got := ReplayHeaders(in, "dlq/2/7")
	want := []kafka.Header{
		{Key: "x-hub-signature-256", Value: []byte("sha256=ab")},
		{Key: "x-received-at", Value: []byte("2026-12-07T10:00:00Z")},
		{Key: HeaderReplay, Value: []byte("dlq/2/7")},
	}
	if len(got) != len(want) {
		t.Fatalf("headers %v, want %v", got, want)
	}
	for i := range want {
		if got[i].Key != want[i].Key || string(got[i].Value) != string(want[i].Value) {
			t.Errorf("header %d: %s=%q, want %s=%q", i, got[i].Key, got[i].Value, want[i].Key, want[i].Value)
		}
	}
	if len(in) != 8 || in[1].Key != HeaderError {
		t.Errorf("the letter's own headers were changed: %v", in)
	}
}

// The dead letter of a replayed body that fails again names the letter it was replayed from
// (Write keeps x-wapipe-replay), with fresh reason headers and the original key.
func TestWriteKeepsTheReplayHeader(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	w, err := New(cluster.ListenAddrs(), "dlq", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	replayed := ReplayHeaders([]kafka.Header{{Key: HeaderError, Value: []byte("old reason")}, {Key: "x-received-at", Value: []byte("1")}}, "dlq/0/3")
	if err := w.Write(ctx, []Letter{{Key: []byte("k"), Value: []byte("{}"), Headers: replayed, Stage: "process", Reason: "new reason", Source: "t/1/9"}}); err != nil {
		t.Fatal(err)
	}
	m := read(t, cluster.ListenAddrs()[0], 1)[0]
	if header(m, HeaderReplay) != "dlq/0/3" || header(m, HeaderError) != "new reason" || header(m, "x-received-at") != "1" || string(m.Key) != "k" {
		t.Errorf("dead letter of a replay: key %q headers %v", m.Key, m.Headers)
	}
	n := 0
	for _, h := range m.Headers {
		if h.Key == HeaderError {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d %s headers, want 1", n, HeaderError)
	}
}
