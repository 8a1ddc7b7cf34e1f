// Package unit is what flows through the worker: a Kafka record and everything the stages
// derive from it, up to the rows the sinks write. It is a leaf (as benthos's message package):
// stages and sinks import it, never the runner that moves units between them.
//
// What it promises: a unit is owned by one stage at a time, in record order per partition;
// its record's offset is acknowledged (Lease) only once the whole unit is durable.
package unit

import (
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/wapipe/wapipe/model"
)

// Record is one Kafka message on its way through the pipeline.
type Record struct {
	Topic     string
	Partition int
	Offset    int64
	Key       []byte
	Value     []byte
	Headers   []kafka.Header
	Time      time.Time
	// Replica marks a record of the replica topic (the identity topic): the runner hands it
	// to the import stage instead of decoding and processing it.
	Replica bool
	// Lease is the claim of the partition generation that fetched the record, acknowledged
	// once its unit is durable so that the offset commits in the right place. The runner
	// sets it; stages and sinks leave it alone.
	Lease Lease
}

// Lease takes the acknowledgement of a record's offset.
type Lease interface{ Ack(offset int64) }

// Source is the record's coordinates as dead letters name them: topic/partition/offset.
func (r *Record) Source() string { return fmt.Sprintf("%s/%d/%d", r.Topic, r.Partition, r.Offset) }

// Unit is everything the stages derive from one record. The record's offset is done when
// the sink has made the whole unit durable.
type Unit struct {
	Rec     *Record
	Events  []model.Event
	Invalid []model.Invalid
	// Rows are the rows to write for this record.
	Rows []model.Row
	// Seen are the dedupe keys (hashed) to remember once the rows are durable.
	Seen [][2]uint64
	// DeadLetter, when not nil, sends the record to the dead-letter topic with this reason.
	DeadLetter *DeadLetter
	// Republish, on a replica record, asks for this worker's snapshots of the contacts and
	// leads in Rows once they are durable: the snapshot read lacked what this worker holds,
	// and the compacted replica topic keeps only the last snapshot of each.
	Republish bool
}

// DeadLetter is why a record goes to the dead-letter topic and which stage said so.
type DeadLetter struct {
	Stage  string
	Why    Reason // bounded: the metric's label
	Reason string // free text naming what is wrong: the x-wapipe-error header
}

// Reject marks the unit for the dead-letter topic, why being the bounded kind and reason
// the text. A second rejection adds its text; the first one's kind stays.
func (u *Unit) Reject(stage string, why Reason, reason string) {
	if u.DeadLetter == nil {
		u.DeadLetter = &DeadLetter{Stage: stage, Why: bounded(why), Reason: reason}
		return
	}
	u.DeadLetter.Reason += "; " + reason
}
