package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/segmentio/kafka-go"

	"github.com/wapipe/wapipe/identity"
	"github.com/wapipe/wapipe/stages/process"
)

// forgetPublisher names the erasure records' publisher: no worker has this id, so every
// worker applies them.
const forgetPublisher = "wapipe-forget"

// publishErasure puts one erasure record per contact on the identity topic, under the
// contact's snapshot key, and waits until all in-sync replicas have it. Each worker applies
// it and publishes its erased snapshot of the contact after it (identity/erase.go), so the
// topic's last record of each contact carries the erasure whatever compaction keeps.
func publishErasure(ctx context.Context, k *kafkaLink, topic, tenant string, ids []string, cut int64) error {
	defer k.close()
	w := k.writer(topic, 1_000_000, 100)
	w.AllowAutoTopicCreation = false // a missing topic means a wrong --identity-topic or --group: say so
	header := []kafka.Header{{Key: process.HeaderWorker, Value: []byte(forgetPublisher)}}
	msgs := make([]kafka.Message, len(ids))
	for i, id := range ids {
		msgs[i] = kafka.Message{Key: identity.SnapshotKey(tenant, id), Value: identity.ErasureRecord(tenant, id, cut), Headers: header}
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		_ = w.Close()
		return fmt.Errorf("publish the erasure on %s (the workers' --identity-topic and --group; --identity-topic '' when no worker has one): %w", topic, err)
	}
	return w.Close()
}

// identityTopicName is --identity-topic with {group} replaced, checked to be a Kafka topic
// name; "" stays "" (the workers resolve alone).
func identityTopicName(raw, group string) (string, error) {
	t := strings.ReplaceAll(raw, "{group}", group)
	if strings.Trim(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" || len(t) > 249 {
		return "", fmt.Errorf("--identity-topic %q is not a Kafka topic name (letters, digits, '.', '_' and '-'): give one", t)
	}
	return t, nil
}
