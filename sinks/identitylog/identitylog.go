// Package identitylog publishes the worker's identity changes, and the leads of its
// contacts, to the identity topic that every worker of the group imports (contract
// section 4, rule 8; see identity.Import and report.ImportLead).
//
// It promises: after a batch is durable in ClickHouse, the current snapshot of every
// contact the batch changed (and of the survivor of every contact merged away) is on the
// topic, acknowledged by all in-sync replicas, before the batch's offsets may be
// committed. A crash in between re-reads the batch, and the re-emitted identity rows
// publish the snapshots again. Snapshots are keyed by tenant and contact, so a compacted
// topic keeps the newest of each contact and one contact's snapshots stay in order.
package identitylog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/wapipe/wapipe/internal/backoff"
	"github.com/wapipe/wapipe/internal/connect"
	"github.com/wapipe/wapipe/internal/health"
	"github.com/wapipe/wapipe/internal/kafkalog"
	"github.com/wapipe/wapipe/unit"

	"github.com/wapipe/wapipe/identity"
	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/stages/process"
	"github.com/wapipe/wapipe/stages/report"
)

// maxRequestBytes keeps one produce request under Kafka's default message.max.bytes
// (1 MiB): a larger one is refused for good, and publishing would retry forever.
const maxRequestBytes = 1_000_000

// Publisher writes snapshots to the identity topic.
type Publisher struct {
	w       *kafka.Writer
	store   *identity.Store
	reports *report.Builder
	self    []byte
	log     *slog.Logger
	// Retries, when set, counts failed publishes as they happen (backoff.Retries).
	Retries *prometheus.CounterVec
	// Health, when set, is told whether the identity topic takes snapshots (/readyz).
	Health *health.Deps
}

// New returns a publisher of store's snapshots to topic, signed with the worker's id, through
// transport (its TLS and SASL; nil: kafka-go's default, plaintext).
func New(brokers []string, transport kafka.RoundTripper, topic, workerID string, store *identity.Store, reports *report.Builder, log *slog.Logger) (*Publisher, error) {
	if len(brokers) == 0 || topic == "" || workerID == "" {
		return nil, errors.New("identitylog: brokers, topic and worker id are required")
	}
	return &Publisher{w: kafkalog.Writer(&kafka.Writer{
		Addr: kafka.TCP(brokers...), Topic: topic, Balancer: &kafka.Hash{}, Transport: transport,
		RequiredAcks: kafka.RequireAll, BatchTimeout: 2 * time.Millisecond,
		BatchSize: 10_000, BatchBytes: maxRequestBytes,
	}, log, "identity-topic"), store: store, reports: reports, self: []byte(workerID), log: log}, nil
}

// Close flushes and closes the producer.
func (p *Publisher) Close() error { return p.w.Close() }

// Publish sends the snapshots of the contacts whose identities rows are in the batch's
// webhook units, then of the leads their lead rows show, retrying until it succeeds or ctx
// ends. Imported units came from the topic: sending them back would only echo, unless the
// import found that the snapshot lacked what this worker holds (Unit.Republish).
// Identities go first, so an importer meets a lead's contact before the lead.
func (p *Publisher) Publish(ctx context.Context, batch []*unit.Unit) error {
	var refs []identity.ContactRef
	var leads []report.LeadRef
	// Typed sets: a map[any] boxed every key, an allocation for each identities row.
	seenContact := map[identity.ContactRef]bool{}
	seenLead := map[report.LeadRef]bool{}
	for _, u := range batch {
		if u.Rec.Replica && !u.Republish {
			continue
		}
		for _, r := range u.Rows {
			switch r := r.(type) {
			case *model.IdentityRow:
				if ref := (identity.ContactRef{Tenant: r.Tenant, ID: r.ContactID}); !seenContact[ref] {
					seenContact[ref] = true
					refs = append(refs, ref)
				}
			case *model.LeadRow:
				if ref := (report.LeadRef{Tenant: r.Tenant, Contact: r.ContactID, Ad: r.AdSourceID}); r.Touches > 0 && !seenLead[ref] {
					seenLead[ref] = true
					leads = append(leads, ref)
				}
			}
		}
	}
	if len(refs) == 0 && len(leads) == 0 {
		return nil
	}
	snaps, err := p.store.Snapshots(refs)
	if err != nil {
		return fmt.Errorf("identitylog: read snapshots: %w", err)
	}
	leadKeys, leadValues, err := p.reports.LeadSnapshots(leads)
	if err != nil {
		return fmt.Errorf("identitylog: read lead snapshots: %w", err)
	}
	header := []kafka.Header{{Key: process.HeaderWorker, Value: p.self}}
	msgs := make([]kafka.Message, 0, len(snaps)+len(leadKeys))
	for _, s := range snaps {
		msgs = append(msgs, kafka.Message{Key: s.Key, Value: s.Value, Headers: header})
	}
	for i := range leadKeys {
		msgs = append(msgs, kafka.Message{Key: leadKeys[i], Value: leadValues[i], Headers: header})
	}
	// One backoff policy for every dependency (internal/backoff), each retry counted.
	r := backoff.Retrier{Policy: backoff.Default, Dependency: health.IdentityTopic, Log: p.log, OnRetry: backoff.Count(p.Retries),
		OnDown: p.Health.SetDown, OnUp: p.Health.SetUp}
	if err := r.Do(ctx, "publish identity snapshots", func() error {
		return connect.Explain("kafka", p.w.WriteMessages(ctx, msgs...))
	}); err != nil {
		return fmt.Errorf("identitylog: %w", err)
	}
	return nil
}
