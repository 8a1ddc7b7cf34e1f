// Package deadletter produces dead letters: the original bytes and headers of an input
// record, plus why it was rejected (x-wapipe-error), by which stage (x-wapipe-stage) and
// where it came from (x-wapipe-source = topic/partition/offset). Writes are synchronous and
// acknowledged by all in-sync replicas, so a dead letter is durable when Write returns.
package deadletter

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
)

// Header names of contract section 2.
const (
	HeaderError  = "x-wapipe-error"
	HeaderStage  = "x-wapipe-stage"
	HeaderSource = "x-wapipe-source"
	// HeaderOriginalSize is set when a value larger than MaxValueBytes was cut to fit.
	HeaderOriginalSize = "x-wapipe-original-size"
)

// MaxValueBytes keeps a dead letter under Kafka's default message.max.bytes (1 MB). A larger
// body (Meta allows 3 MB) is cut to this size and says so, rather than failing forever: a dead
// letter that can never be produced would hold its partition's offsets back for good.
const MaxValueBytes = 900 << 10

// Letter is one record to dead-letter.
type Letter struct {
	Key, Value []byte
	Headers    []kafka.Header
	Stage      string
	Reason     string
	Source     string
}

// Writer produces letters to the dead-letter topic.
type Writer struct{ w *kafka.Writer }

// New returns a writer for topic on brokers.
func New(brokers []string, topic string) (*Writer, error) {
	if len(brokers) == 0 || topic == "" {
		return nil, errors.New("deadletter: brokers and topic are required")
	}
	return &Writer{w: &kafka.Writer{
		Addr: kafka.TCP(brokers...), Topic: topic, Balancer: &kafka.Hash{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond,
		BatchBytes: 1_000_000, AllowAutoTopicCreation: true, // Kafka's default message.max.bytes is 1 MiB
	}}, nil
}

// Write produces every letter and returns when all are acknowledged.
func (w *Writer) Write(ctx context.Context, letters []Letter) error {
	if len(letters) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, len(letters))
	for i, l := range letters {
		h := make([]kafka.Header, 0, len(l.Headers)+3)
		for _, o := range l.Headers {
			switch o.Key {
			case HeaderError, HeaderStage, HeaderSource, HeaderOriginalSize: // a re-driven dead letter gets fresh ones
			default:
				h = append(h, o)
			}
		}
		h = append(h, kafka.Header{Key: HeaderError, Value: []byte(l.Reason)},
			kafka.Header{Key: HeaderStage, Value: []byte(l.Stage)},
			kafka.Header{Key: HeaderSource, Value: []byte(l.Source)})
		value := l.Value
		if len(value) > MaxValueBytes {
			h = append(h, kafka.Header{Key: HeaderOriginalSize, Value: []byte(strconv.Itoa(len(value)))})
			value = value[:MaxValueBytes]
		}
		msgs[i] = kafka.Message{Key: l.Key, Value: value, Headers: h}
	}
	return w.w.WriteMessages(ctx, msgs...)
}

// Close flushes and closes the writer.
func (w *Writer) Close() error { return w.w.Close() }
