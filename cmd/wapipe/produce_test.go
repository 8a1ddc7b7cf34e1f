package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// wapipe produce as a new user runs it: a pretty-printed webhook piped in is one body, an
// NDJSON stream on stdin is one body a line (a line that is not JSON included, for the worker
// to dead-letter), and a body of 1.5 MB (Meta sends up to 3 MB) reaches wapipe broker whole.
func TestProduceSendsBodiesAsUsersGiveThem(t *testing.T) {
	cluster, err := startBroker("127.0.0.1:0", 1, "", nil, "hooks")
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	addr := cluster.ListenAddrs()[0]

	pretty := "{\n  \"object\": \"whatsapp_business_account\",\n  \"entry\": [\n    {\"id\": \"1\", \"changes\": [{\"field\": \"messages\",\n" +
		"      \"value\": {\"metadata\": {\"phone_number_id\": \"PN1\"}}}]}\n  ]\n}\n"
	ndjson := `{"object":"whatsapp_business_account","entry":[]}` + "\n\nnot json\n" + `{"object":"x"}` + "\n"
	big := `{"object":"whatsapp_business_account","entry":[],"pad":"` + strings.Repeat("a", 1_500_000) + `"}`
	bigFile := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(bigFile, []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}

	withStdin(t, pretty, func() { produceOrFail(t, addr, "-") })
	withStdin(t, ndjson, func() { produceOrFail(t, addr, "-") })
	produceOrFail(t, addr, bigFile)

	want := []string{pretty, `{"object":"whatsapp_business_account","entry":[]}`, "not json", `{"object":"x"}`, big}
	got := readTopic(t, addr, "hooks", len(want))
	for i := range want {
		if i >= len(got) {
			t.Fatalf("got %d records, want %d", len(got), len(want))
		}
		if string(got[i].Value) != want[i] {
			t.Errorf("record %d: %d bytes %.40q..., want %d bytes %.40q...", i, len(got[i].Value), got[i].Value, len(want[i]), want[i])
		}
	}
	if string(got[0].Key) != "PN1" {
		t.Errorf("the piped body's key is %q, want its phone_number_id PN1", got[0].Key)
	}
}

func produceOrFail(t *testing.T, addr, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := produceCmd(ctx, []string{"--brokers", addr, "--topic", "hooks", name}); err != nil {
		t.Fatalf("produce %s: %v", name, err)
	}
}

func withStdin(t *testing.T, text string, fn func()) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "stdin")
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	saved := os.Stdin
	os.Stdin = in
	defer func() { os.Stdin = saved }()
	fn()
}

func readTopic(t *testing.T, addr, topic string, n int) []kafka.Message {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, Topic: topic, Partition: 0, MaxBytes: 16 << 20, MaxWait: 200 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var msgs []kafka.Message
	for len(msgs) < n {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read %d of %d records: %v", len(msgs), n, err)
		}
		m.Value = bytes.Clone(m.Value)
		msgs = append(msgs, m)
	}
	return msgs
}
