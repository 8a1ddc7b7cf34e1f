package pipeline

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wapipe/wapipe/internal/backoff"
)

// Metrics are the pipeline's Prometheus series. They live beside the code that moves them.
type Metrics struct {
	Consumed   prometheus.Counter
	Processed  prometheus.Counter
	Written    prometheus.Counter // records made durable
	Replicated prometheus.Counter // replica records made durable
	DeadLetter prometheus.Counter
	// DeadLetters is by stage and bounded reason (Reason).
	DeadLetters *prometheus.CounterVec
	Errors      *prometheus.CounterVec // by where: fetch, commit, group, sink, stage
	Lag         *prometheus.GaugeVec   // by partition: end offset - committed offset
	Committed   *prometheus.GaugeVec   // by partition: last committed offset
	Partitions  prometheus.Gauge
	Generation  prometheus.Gauge
	BatchUnits  prometheus.Histogram
	BatchRows   prometheus.Histogram
	FlushSecs   prometheus.Histogram
	InFlight    prometheus.Gauge // records fetched and not yet durable
	// Skipped counts input offsets the reader jumped over: records gone by retention
	// before this group read them (kafka-go resets to the first offset kept).
	Skipped prometheus.Counter
	// Retries is wapipe_retries_total{dependency}, shared with the sinks (backoff.Retries).
	Retries *prometheus.CounterVec
}

// NewMetrics creates the series and registers them on reg (nil: not registered, for tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Consumed:   prometheus.NewCounter(prometheus.CounterOpts{Name: "wapipe_records_consumed_total", Help: "Kafka records fetched."}),
		Processed:  prometheus.NewCounter(prometheus.CounterOpts{Name: "wapipe_records_processed_total", Help: "Records through the stages."}),
		Written:    prometheus.NewCounter(prometheus.CounterOpts{Name: "wapipe_records_durable_total", Help: "Input records whose rows and dead letters are durable."}),
		Replicated: prometheus.NewCounter(prometheus.CounterOpts{Name: "wapipe_replica_records_durable_total", Help: "Replica (identity topic) records applied and durable."}),
		DeadLetter: prometheus.NewCounter(prometheus.CounterOpts{Name: "wapipe_records_dead_lettered_total", Help: "Records sent to the dead-letter topic."}),
		DeadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wapipe_dead_letters_total",
			Help: "Records sent to the dead-letter topic, by stage and reason (a bounded set)."}, []string{"stage", "reason"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wapipe_errors_total", Help: "Errors by where they happened."}, []string{"where"}),
		Lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "wapipe_consumer_lag",
			Help: "Records between the committed offset and the end of each owned input partition: it grows while a dependency is away."}, []string{"partition"}),
		Committed:  prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "wapipe_partition_committed_offset", Help: "Last committed offset, by partition."}, []string{"partition"}),
		Partitions: prometheus.NewGauge(prometheus.GaugeOpts{Name: "wapipe_partitions_assigned", Help: "Partitions this worker owns."}),
		Generation: prometheus.NewGauge(prometheus.GaugeOpts{Name: "wapipe_group_generation", Help: "Consumer group generation id."}),
		BatchUnits: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "wapipe_batch_records", Help: "Records per flushed batch.", Buckets: prometheus.ExponentialBuckets(1, 4, 10)}),
		BatchRows:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "wapipe_batch_rows", Help: "Rows per flushed batch.", Buckets: prometheus.ExponentialBuckets(1, 4, 10)}),
		FlushSecs:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "wapipe_batch_flush_seconds", Help: "Time to make a batch durable, retries included.", Buckets: prometheus.ExponentialBuckets(0.001, 3, 12)}),
		InFlight:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "wapipe_records_in_flight", Help: "Records fetched and not yet durable."}),
		Skipped: prometheus.NewCounter(prometheus.CounterOpts{Name: "wapipe_records_skipped_total",
			Help: "Input records never read: deleted by retention before the group reached them (the reader moved to the first offset kept)."}),
		Retries: backoff.Retries(reg),
	}
	// Every place of an error is exported from the start at 0, so a dashboard's rate() of a
	// first error reads a rise, not a series appearing from nothing.
	for _, where := range []string{"fetch", "commit", "group", "sink", "stage", "after_durable", "lag", "replica"} {
		m.Errors.WithLabelValues(where)
	}
	if reg != nil {
		reg.MustRegister(m.Consumed, m.Processed, m.Written, m.Replicated, m.DeadLetter, m.DeadLetters, m.Errors, m.Lag, m.Committed,
			m.Partitions, m.Generation, m.BatchUnits, m.BatchRows, m.FlushSecs, m.InFlight, m.Skipped)
	}
	return m
}
