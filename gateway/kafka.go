package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// NewWriter returns the gateway's Kafka producer: synchronous (WriteMessages returns once
// the broker acknowledged), acknowledged by all in-sync replicas, keyed by the hash of the
// key (unkeyed messages go round-robin), and with room for bodies of maxBody bytes (the
// cluster's message.max.bytes must allow them too: Kafka's default is 1 MiB, Meta sends up
// to 3 MB). Concurrent requests share batches: a batch leaves after at most a millisecond.
// It does not create the topic. transport carries the TLS and SASL settings (nil: plaintext).
func NewWriter(brokers []string, topic string, maxBody int64, transport kafka.RoundTripper) *kafka.Writer {
	return &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, Balancer: &kafka.Hash{}, Transport: transport,
		RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond, BatchSize: 256,
		BatchBytes:   maxBody + 64<<10, // the body, its key and headers, the record framing
		WriteTimeout: DefaultWriteTimeout, ReadTimeout: DefaultWriteTimeout,
		MaxAttempts: 10, WriteBackoffMin: 50 * time.Millisecond, WriteBackoffMax: 500 * time.Millisecond}
}

// KafkaProbe returns a check that the brokers answer and know topic with a leader for every
// partition: what a write needs, without writing.
func KafkaProbe(brokers []string, topic string, transport kafka.RoundTripper) func(context.Context) error {
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 5 * time.Second, Transport: transport}
	return func(ctx context.Context) error {
		resp, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
		if err != nil {
			return err
		}
		for _, t := range resp.Topics {
			if t.Name != topic {
				continue
			}
			if t.Error != nil {
				return fmt.Errorf("topic %s: %w", topic, t.Error)
			}
			if len(t.Partitions) == 0 {
				return fmt.Errorf("topic %s has no partitions", topic)
			}
			for _, p := range t.Partitions {
				if p.Error != nil {
					return fmt.Errorf("topic %s partition %d: %w", topic, p.ID, p.Error)
				}
			}
			return nil
		}
		return errors.New("topic " + topic + " not in the brokers' metadata")
	}
}
