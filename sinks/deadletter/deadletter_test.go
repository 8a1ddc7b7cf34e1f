package deadletter

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
)

// A 2 MB body (Meta sends up to 3 MB) is dead-lettered whole where the topic takes it, and cut
// to MaxValueBytes with x-wapipe-original-size where the broker keeps Kafka's 1 MiB default;
// small letters are written as they are either way, with the reason headers.
func TestLargeLettersWholeWhenTheTopicTakesThem(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 2<<20)
	for name, c := range map[string]struct {
		opts []kfake.Opt
		want int // bytes of the big letter as dead-lettered
		cut  bool
	}{
		"topic takes 8 MB":      {[]kfake.Opt{kfake.BrokerConfigs(map[string]string{"message.max.bytes": strconv.Itoa(8 << 20)})}, len(big), false},
		"Kafka's 1 MiB default": {nil, MaxValueBytes, true},
	} {
		t.Run(name, func(t *testing.T) {
			cluster, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(1, "dlq")}, c.opts...)...)
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
			err = w.Write(ctx, []Letter{
				{Value: big, Stage: "decode", Reason: "too big", Source: "t/0/1"},
				{Value: []byte("not json"), Stage: "decode", Reason: "not JSON", Source: "t/0/2"},
			})
			if err != nil {
				t.Fatalf("write: %v", err)
			}
			got := read(t, cluster.ListenAddrs()[0], 2)
			byReason := map[string]kafka.Message{}
			for _, m := range got {
				byReason[header(m, HeaderError)] = m
			}
			m := byReason["too big"]
			if len(m.Value) != c.want || !bytes.Equal(m.Value, big[:c.want]) {
				t.Errorf("the big letter: %d bytes, want the first %d of the body", len(m.Value), c.want)
			}
			if size := header(m, HeaderOriginalSize); (size != "") != c.cut || (c.cut && size != strconv.Itoa(len(big))) {
				t.Errorf("%s = %q (cut: %v)", HeaderOriginalSize, size, c.cut)
			}
			if s := byReason["not JSON"]; string(s.Value) != "not json" || header(s, HeaderSource) != "t/0/2" {
				t.Errorf("the small letter: %q, source %q", s.Value, header(s, HeaderSource))
			}
		})
	}
}

func read(t *testing.T, addr string, n int) []kafka.Message {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, Topic: "dlq", Partition: 0, MaxBytes: 16 << 20, MaxWait: 200 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []kafka.Message
	for len(out) < n {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read %d of %d letters: %v", len(out), n, err)
		}
		out = append(out, m)
	}
	return out
}

func header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
