package pipeline

import (
	"errors"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"
)

// Config tunes the pipeline. Zero values take the defaults of WithDefaults.
type Config struct {
	Brokers     []string
	Topic       string
	Group       string
	StartOffset int64 // kafka.FirstOffset or kafka.LastOffset, for a group with no committed offset

	SessionTimeout   time.Duration
	RebalanceTimeout time.Duration
	// DrainTimeout bounds how long a revoked partition waits for its records to become
	// durable before it hands over uncommitted (the next owner then re-reads them).
	DrainTimeout time.Duration
	// ShutdownTimeout bounds the whole drain on SIGTERM; what is not durable by then is
	// not committed and is re-read after restart.
	ShutdownTimeout time.Duration

	FetchMaxBytes    int
	FetchMaxWait     time.Duration
	MaxInFlightBytes int64 // bodies fetched and not yet durable, and the readers' fetches ahead of them (prefetch.go); fetching blocks above it

	DecodeWorkers  int
	BatchRows      int           // flush when a batch holds this many rows,
	BatchBytes     int           // or this many body bytes,
	BatchAge       time.Duration // or is this old
	CommitInterval time.Duration

	// Replica, when set, is read whole by this worker besides its share of Topic.
	Replica *ReplicaConfig

	Logger *slog.Logger
}

// WithDefaults fills zero fields and checks the rest.
func (c Config) WithDefaults() (Config, error) {
	if len(c.Brokers) == 0 || c.Topic == "" || c.Group == "" {
		return c, errors.New("pipeline: brokers, topic and group are required")
	}
	if c.StartOffset == 0 {
		c.StartOffset = kafka.FirstOffset
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.SessionTimeout, 10*time.Second)
	def(&c.RebalanceTimeout, 30*time.Second)
	def(&c.DrainTimeout, 10*time.Second)
	def(&c.ShutdownTimeout, 30*time.Second)
	def(&c.FetchMaxWait, 250*time.Millisecond)
	def(&c.BatchAge, time.Second)
	def(&c.CommitInterval, time.Second)
	if c.FetchMaxBytes <= 0 {
		c.FetchMaxBytes = 2 << 20 // per partition reader: its buffer is live memory; larger messages still pass
	}
	if c.MaxInFlightBytes <= 0 {
		c.MaxInFlightBytes = 32 << 20
	}
	if c.DecodeWorkers <= 0 {
		c.DecodeWorkers = 2
	}
	if c.BatchRows <= 0 {
		c.BatchRows = 25_000
	}
	if c.BatchBytes <= 0 {
		c.BatchBytes = 32 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}
