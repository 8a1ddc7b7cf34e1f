package pipeline

import (
	"errors"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/wapipe/wapipe/internal/health"
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
	// LagInterval is how often the end offsets of the owned partitions are asked for, to
	// measure wapipe_consumer_lag (and whether the brokers answer).
	LagInterval time.Duration
	// ProgressInterval is how often a lasting lag (a long catch-up) logs its progress.
	ProgressInterval time.Duration

	// Replica, when set, is read whole by this worker besides its share of Topic.
	Replica *ReplicaConfig

	// Dialer (consumer group, readers) and Transport (the replica's admin requests) carry the
	// TLS and SASL settings; nil: kafka-go's defaults, plaintext.
	Dialer    *kafka.Dialer
	Transport kafka.RoundTripper
	// Health, when set, learns that Kafka (the consumer group) or the identity topic is down
	// and why, for /readyz: a refused login or a TLS failure is named as such (connect.Explain).
	Health *health.Deps

	Logger *slog.Logger
}

// Defaults are the values WithDefaults gives the fields left zero, written once: the
// worker's flags show them as their defaults.
var Defaults = Config{
	StartOffset:      kafka.FirstOffset,
	SessionTimeout:   10 * time.Second,
	RebalanceTimeout: 30 * time.Second,
	DrainTimeout:     10 * time.Second,
	ShutdownTimeout:  30 * time.Second,
	FetchMaxBytes:    2 << 20, // per partition reader: its buffer is live memory; larger messages still pass
	FetchMaxWait:     250 * time.Millisecond,
	MaxInFlightBytes: 32 << 20,
	DecodeWorkers:    2,
	BatchRows:        25_000,
	BatchBytes:       32 << 20,
	BatchAge:         time.Second,
	CommitInterval:   time.Second,
	LagInterval:      2 * time.Second,
	ProgressInterval: 30 * time.Second,
}

// WithDefaults fills zero fields from Defaults and checks the rest.
func (c Config) WithDefaults() (Config, error) {
	if len(c.Brokers) == 0 || c.Topic == "" || c.Group == "" {
		return c, errors.New("pipeline: brokers, topic and group are required")
	}
	d := Defaults
	if c.StartOffset == 0 {
		c.StartOffset = d.StartOffset
	}
	orDefault(&c.SessionTimeout, d.SessionTimeout)
	orDefault(&c.RebalanceTimeout, d.RebalanceTimeout)
	orDefault(&c.DrainTimeout, d.DrainTimeout)
	orDefault(&c.ShutdownTimeout, d.ShutdownTimeout)
	orDefault(&c.FetchMaxWait, d.FetchMaxWait)
	orDefault(&c.BatchAge, d.BatchAge)
	orDefault(&c.CommitInterval, d.CommitInterval)
	orDefault(&c.LagInterval, d.LagInterval)
	orDefault(&c.ProgressInterval, d.ProgressInterval)
	orDefault(&c.FetchMaxBytes, d.FetchMaxBytes)
	orDefault(&c.MaxInFlightBytes, d.MaxInFlightBytes)
	orDefault(&c.DecodeWorkers, d.DecodeWorkers)
	orDefault(&c.BatchRows, d.BatchRows)
	orDefault(&c.BatchBytes, d.BatchBytes)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// orDefault sets *v to def when *v is zero or negative.
func orDefault[T time.Duration | int | int64](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
