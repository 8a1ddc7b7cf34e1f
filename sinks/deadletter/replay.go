package deadletter

import (
	"strings"

	"github.com/segmentio/kafka-go"
)

// Replay headers (wapipe dlq replay). A replayed record carries HeaderReplay, naming the dead
// letter it was sent from as dlq-topic/partition/offset. Write keeps it (it strips only the
// reason headers), so when the replayed body fails again its new dead letter names its
// predecessor: dlq replay then skips both, and a replay never loops.
const (
	HeaderReplay = "x-wapipe-replay"
	// HeaderReplayed marks a record of the dead-letter topic that is no dead letter: it
	// says that the letter it names (dlq-topic/partition/offset) was replayed, so the next
	// replay does not send it again. It has no value and no HeaderError.
	HeaderReplayed = "x-wapipe-replayed"
)

// headerPrefix is what every wapipe header starts with.
const headerPrefix = "x-wapipe-"

// ReplayHeaders returns the headers a dead letter's body is replayed with: its original
// headers (x-hub-signature-256, x-received-at, ...) without any x-wapipe-* header, then
// HeaderReplay naming the letter (from). It does not change h.
func ReplayHeaders(h []kafka.Header, from string) []kafka.Header {
	out := make([]kafka.Header, 0, len(h)+1)
	for _, o := range h {
		if !strings.HasPrefix(strings.ToLower(o.Key), headerPrefix) {
			out = append(out, o)
		}
	}
	return append(out, kafka.Header{Key: HeaderReplay, Value: []byte(from)})
}
