// Package deadletter produces dead letters: the original bytes and headers of an input
// record, plus why it was rejected (x-wapipe-error), by which stage (x-wapipe-stage) and
// where it came from (x-wapipe-source = topic/partition/offset). Writes are synchronous and
// acknowledged by all in-sync replicas, so a dead letter is durable when Write returns.
package deadletter

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/wapipe/wapipe/internal/kafkalog"
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
// body (Meta allows 3 MB) is sent whole when the topic takes it (a cluster configured for
// Meta's bodies), else cut to this size and says so, rather than failing forever: a dead
// letter that can never be produced would hold its partition's offsets back for good.
const MaxValueBytes = 900 << 10

// maxLargeBytes bounds the one-letter requests of letters over MaxValueBytes: Meta's 3 MB
// and the largest --max-body-bytes anyone sets, with room for headers.
const maxLargeBytes = 16 << 20

// Letter is one record to dead-letter.
type Letter struct {
	Key, Value []byte
	Headers    []kafka.Header
	Stage      string
	Reason     string
	Source     string
}

// Writer produces letters to the dead-letter topic: the letters up to MaxValueBytes in
// requests under Kafka's default limit, larger ones one a request.
type Writer struct{ w, large *kafka.Writer }

// New returns a writer for topic on brokers, through transport (its TLS and SASL; nil:
// kafka-go's default, plaintext).
func New(brokers []string, topic string, transport kafka.RoundTripper) (*Writer, error) {
	if len(brokers) == 0 || topic == "" {
		return nil, errors.New("deadletter: brokers and topic are required")
	}
	writer := func(batchBytes int64, batchSize int) *kafka.Writer {
		return &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, Balancer: &kafka.Hash{}, Transport: transport,
			RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond,
			BatchBytes: batchBytes, BatchSize: batchSize, AllowAutoTopicCreation: true}
	}
	// Kafka's default message.max.bytes is 1 MiB, for a whole request.
	return &Writer{w: writer(1_000_000, 100), large: writer(maxLargeBytes, 1)}, nil
}

// Log sends kafka-go's messages about the dead-letter producers to log (errors at warn).
func (w *Writer) Log(log *slog.Logger) *Writer {
	kafkalog.Writer(w.w, log, "dead-letters")
	kafkalog.Writer(w.large, log, "dead-letters")
	return w
}

// Write produces every letter and returns when all are acknowledged.
func (w *Writer) Write(ctx context.Context, letters []Letter) error {
	if len(letters) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, 0, len(letters))
	for _, l := range letters {
		h := make([]kafka.Header, 0, len(l.Headers)+3)
		for _, o := range l.Headers {
			switch o.Key {
			case HeaderError, HeaderStage, HeaderSource, HeaderOriginalSize: // a re-driven dead letter gets fresh ones
			default:
				h = append(h, o)
			}
		}
		h = append(h, kafka.Header{Key: HeaderError, Value: []byte(capReason(l.Reason))},
			kafka.Header{Key: HeaderStage, Value: []byte(l.Stage)},
			kafka.Header{Key: HeaderSource, Value: []byte(l.Source)})
		m := kafka.Message{Key: l.Key, Value: l.Value, Headers: h}
		if len(l.Value) <= MaxValueBytes {
			msgs = append(msgs, m)
			continue
		}
		if err := w.writeLarge(ctx, m); err != nil {
			return err
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return w.w.WriteMessages(ctx, msgs...)
}

// writeLarge sends a letter over MaxValueBytes whole; when the topic refuses it as too large,
// it sends the first MaxValueBytes with x-wapipe-original-size instead.
func (w *Writer) writeLarge(ctx context.Context, m kafka.Message) error {
	err := w.large.WriteMessages(ctx, m)
	if !tooLarge(err) {
		return err
	}
	m.Headers = append(m.Headers, kafka.Header{Key: HeaderOriginalSize, Value: []byte(strconv.Itoa(len(m.Value)))})
	m.Value = m.Value[:MaxValueBytes]
	return w.w.WriteMessages(ctx, m)
}

// tooLarge says whether a write failed because the broker refused the message's size.
func tooLarge(err error) bool {
	if errors.Is(err, kafka.MessageSizeTooLarge) {
		return true
	}
	var each kafka.WriteErrors
	if errors.As(err, &each) {
		for _, e := range each {
			if errors.Is(e, kafka.MessageSizeTooLarge) {
				return true
			}
		}
	}
	return false
}

// Close flushes and closes the writer.
func (w *Writer) Close() error { return errors.Join(w.w.Close(), w.large.Close()) }
