package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/wapipe/wapipe/gen"
)

// What each poison kind's x-wapipe-error must speak of: the generator's kinds, and the
// oversized body this test adds.
var poisonReasons = func() map[string]*regexp.Regexp {
	m := maps.Clone(gen.PoisonReasons)
	m["too_large"] = regexp.MustCompile(`limit`)
	return m
}()

var validBSUID = regexp.MustCompile(`^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$`)

// badBSUIDMessage returns the id of the message whose sender's BSUID is invalid.
func badBSUIDMessage(body []byte) string {
	var h struct {
		Entry []struct {
			Changes []struct {
				Value struct {
					Messages []struct {
						ID   string `json:"id"`
						From string `json:"from_user_id"`
					} `json:"messages"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if json.Unmarshal(body, &h) != nil {
		return ""
	}
	for _, en := range h.Entry {
		for _, ch := range en.Changes {
			for _, m := range ch.Value.Messages {
				if m.From != "" && !validBSUID.MatchString(m.From) {
					return m.ID
				}
			}
		}
	}
	return ""
}

// bigBody is a valid WhatsApp webhook of about size bytes: one text message of a huge body.
func bigBody(size int) []byte {
	head := inboundBody(inMsg{id: "wamid.E2E.BIG", bsuid: "ZZ.9000000000000000099", phone: "999000000099",
		name: "Big", text: "XBIGX", ts: 1_780_300_000})
	i := bytes.Index(head, []byte("XBIGX"))
	pad := bytes.Repeat([]byte("a"), size-len(head)+len("XBIGX"))
	return append(append(append([]byte{}, head[:i]...), pad...), head[i+5:]...)
}

// Truncated JSON, invalid UTF-8, wrongly typed fields, non-WhatsApp JSON and invalid BSUIDs
// (the generator's poison kinds, about 3% of the bodies) and one 5 MB body are mixed into a
// run: each poison body reaches the dead-letter topic exactly once, with its original bytes,
// x-wapipe-error naming a reason of its kind, x-wapipe-stage and x-wapipe-source; the 5 MB body
// (over the 3 MiB --max-body-bytes) is dead-lettered unread with a "limit" reason, whole, as
// the topic takes 8 MB (sinks/deadletter tests the cut where it does not); no valid body is dead-lettered; every valid row is
// present (the valid sibling of an invalid BSUID included); every offset is committed and the
// worker stays up.
func TestPoisonIsDeadLetteredAndValidRowsLand(t *testing.T) {
	start := time.Now()
	const partitions = 3
	e := newEnvWith(t, partitions, kfake.BrokerConfigs(map[string]string{"message.max.bytes": strconv.Itoa(8 << 20)}))
	tr := generateWith(gen.Config{Seed: 13, Webhooks: 4_000, PoisonRate: 0.03})
	exp := tr.exp

	poison := map[string]string{} // body -> kind
	kinds := map[string]int{}
	for i, k := range tr.poison {
		if k != "" {
			poison[string(tr.msgs[i].Value)] = k
			kinds[k]++
		}
	}
	if len(poison) != exp.DeadLetters {
		t.Fatalf("%d distinct poison bodies, the generator expects %d dead letters", len(poison), exp.DeadLetters)
	}
	for _, k := range []string{gen.PoisonTruncated, gen.PoisonBadUTF8, gen.PoisonWrongType, gen.PoisonNotWhatsApp, gen.PoisonBadBSUID} {
		if kinds[k] == 0 {
			t.Fatalf("no %s body in the stream: %v", k, kinds)
		}
	}
	var key []byte
	for _, m := range tr.msgs {
		if m.Key != nil {
			key = m.Key // the big body shares a busy partition with valid ones
			break
		}
	}
	big := bigBody(5 << 20)
	if !json.Valid(big) || len(big) != 5<<20 {
		t.Fatalf("the big body: %d bytes, valid JSON %v", len(big), json.Valid(big))
	}

	half := len(tr.msgs) / 2
	e.produce(tr.msgs[:half])
	bw := &kafka.Writer{Addr: kafka.TCP(e.brokers), Topic: topic, Balancer: &kafka.Hash{},
		BatchBytes: 16 << 20, RequiredAcks: kafka.RequireAll}
	if err := bw.WriteMessages(context.Background(), kafka.Message{Key: key, Value: big}); err != nil {
		t.Fatalf("producing the 5 MB body: %v", err)
	}
	bw.Close()
	e.produce(tr.msgs[half:])
	total := int64(len(tr.msgs) + 1)
	t.Logf("%d webhooks, %d poison %v, and one body of %d bytes", len(tr.msgs), len(poison), kinds, len(big))

	w := e.startWorker(t.TempDir())
	waitFor(t, 3*time.Minute, "every offset committed", func() bool { return e.committed("wapipe", partitions) == total })

	letters := e.readLetters(exp.DeadLetters+1, 60*time.Second, 3*time.Second)
	got := map[string]int{}
	samples := map[string]string{}
	bigSeen := 0
	for _, l := range letters {
		reason, stage, src := l.header("x-wapipe-error"), l.header("x-wapipe-stage"), l.header("x-wapipe-source")
		if stage == "" || !sourceRe.MatchString(src) {
			t.Errorf("dead letter from %q lacks its stage or source: stage %q source %q", src, stage, src)
		}
		kind, ok := poison[string(l.Value)]
		if size := l.header("x-wapipe-original-size"); size != "" || len(l.Value) > 1<<20 {
			kind, ok = "too_large", true
			bigSeen++
			if size != "" || !bytes.Equal(l.Value, big) {
				t.Errorf("the 5 MB body's dead letter holds %d bytes (x-wapipe-original-size %q), want the whole %d: the topic takes 8 MB",
					len(l.Value), size, len(big))
			}
		}
		if !ok {
			t.Errorf("a body that is not poison was dead-lettered (%d bytes, source %s): %s", len(l.Value), src, reason)
			continue
		}
		got[string(l.Value)]++
		if samples[kind] == "" {
			samples[kind] = reason
		}
		if !poisonReasons[kind].MatchString(reason) {
			t.Errorf("%s body (source %s): x-wapipe-error %q does not match %v", kind, src, reason, poisonReasons[kind])
		}
		if kind == gen.PoisonBadBSUID {
			if id := badBSUIDMessage(l.Value); id == "" || !strings.Contains(reason, id) {
				t.Errorf("invalid_bsuid body (source %s): x-wapipe-error %q does not name the invalid message %q", src, reason, id)
			}
		}
	}
	missing := map[string]int{}
	for body, kind := range poison {
		switch n := got[body]; {
		case n == 0:
			missing[kind]++
		case n > 1:
			t.Errorf("a %s body was dead-lettered %d times", kind, n)
		}
	}
	for kind, n := range missing {
		t.Errorf("%d of %d %s bodies never reached the dead-letter topic", n, kinds[kind], kind)
	}
	if bigSeen != 1 {
		t.Errorf("the 5 MB body was dead-lettered %d times, want once", bigSeen)
	}
	for kind, r := range samples {
		t.Logf("reason of a %s body: %s", kind, r)
	}
	if n := e.count("SELECT count() FROM $db.chat_report WHERE message_id = 'wamid.E2E.BIG'"); n != 0 {
		t.Errorf("the 5 MB body was read: %d chat rows", n)
	}
	if !w.alive() {
		t.Fatal("the worker died on poison")
	}
	e.expectCountedOnce(exp, 30*time.Second)
	e.expectReports(exp, 30*time.Second)
	w.stop(t)
	t.Logf("%d letters for %d poison bodies and the big one, in %v", len(letters), len(poison), time.Since(start).Round(time.Second))
}
