package pipeline

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the pipeline's Prometheus series. They live beside the code that moves them.
type Metrics struct {
	Consumed   prometheus.Counter
	Processed  prometheus.Counter
	Written    prometheus.Counter // records made durable
	Replicated prometheus.Counter // replica records made durable
	DeadLetter prometheus.Counter
	Errors     *prometheus.CounterVec // by where: fetch, commit, group, sink, stage
	Lag        *prometheus.GaugeVec   // by partition: high watermark - last fetched - 1
	Committed  *prometheus.GaugeVec   // by partition: last committed offset
	Partitions prometheus.Gauge
	Generation prometheus.Gauge
	BatchUnits prometheus.Histogram
	BatchRows  prometheus.Histogram
	FlushSecs  prometheus.Histogram
	InFlight   prometheus.Gauge // records fetched and not yet durable
}

// NewMetrics creates the series and registers them on reg (nil: not registered, for tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Consumed:   prometheus.NewCounter(prometheus.CounterOpts{Name: "wapipe_records_consumed_total", Help: "Kafka records fetched."}),
		Processed:  prometheus.NewCounter(prometheus.CounterOpts{Name: "wapipe_records_processed_total", Help: "Records through the stages."}),
		Written:    prometheus.NewCounter(prometheus.CounterOpts{Name: "wapipe_records_durable_total", Help: "Input records whose rows and dead letters are durable."}),
		Replicated: prometheus.NewCounter(prometheus.CounterOpts{Name: "wapipe_replica_records_durable_total", Help: "Replica (identity topic) records applied and durable."}),
		DeadLetter: prometheus.NewCounter(prometheus.CounterOpts{Name: "wapipe_records_dead_lettered_total", Help: "Records sent to the dead-letter topic."}),
		Errors:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wapipe_errors_total", Help: "Errors by where they happened."}, []string{"where"}),
		Lag:        prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "wapipe_partition_lag", Help: "Records behind the high watermark, by partition."}, []string{"partition"}),
		Committed:  prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "wapipe_partition_committed_offset", Help: "Last committed offset, by partition."}, []string{"partition"}),
		Partitions: prometheus.NewGauge(prometheus.GaugeOpts{Name: "wapipe_partitions_assigned", Help: "Partitions this worker owns."}),
		Generation: prometheus.NewGauge(prometheus.GaugeOpts{Name: "wapipe_group_generation", Help: "Consumer group generation id."}),
		BatchUnits: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "wapipe_batch_records", Help: "Records per flushed batch.", Buckets: prometheus.ExponentialBuckets(1, 4, 10)}),
		BatchRows:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "wapipe_batch_rows", Help: "Rows per flushed batch.", Buckets: prometheus.ExponentialBuckets(1, 4, 10)}),
		FlushSecs:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "wapipe_batch_flush_seconds", Help: "Time to make a batch durable, retries included.", Buckets: prometheus.ExponentialBuckets(0.001, 3, 12)}),
		InFlight:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "wapipe_records_in_flight", Help: "Records fetched and not yet durable."}),
	}
	if reg != nil {
		reg.MustRegister(m.Consumed, m.Processed, m.Written, m.Replicated, m.DeadLetter, m.Errors, m.Lag, m.Committed,
			m.Partitions, m.Generation, m.BatchUnits, m.BatchRows, m.FlushSecs, m.InFlight)
	}
	return m
}
