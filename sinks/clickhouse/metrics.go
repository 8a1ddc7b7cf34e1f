package clickhouse

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are per table so a slow or failing table stands out; errors also carry the class, so an alert can
// tell "ClickHouse is down" (transient), "run wapipe migrate" (schema) and "bad rows" (permanent) apart.
type metrics struct {
	latency  *prometheus.HistogramVec
	rows     *prometheus.CounterVec
	errors   *prometheus.CounterVec
	rejected *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) (*metrics, error) {
	m := &metrics{
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wapipe_clickhouse_insert_duration_seconds",
			Help:    "Time of one INSERT, from preparing the batch to the server's acknowledgement.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12), // 5ms .. 10s
		}, []string{"table"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wapipe_clickhouse_rows_inserted_total",
			Help: "Rows the server acknowledged.",
		}, []string{"table"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wapipe_clickhouse_insert_errors_total",
			Help: "Failed INSERTs by kind: transient, schema or permanent.",
		}, []string{"table", "kind"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wapipe_clickhouse_rows_rejected_total",
			Help: "Rows InsertSplitting isolated as rejected by the table.",
		}, []string{"table"}),
	}
	if reg == nil {
		return m, nil
	}
	// A second Client on the same registry (tests, a migrate-then-run process) shares the first one's
	// collectors instead of failing.
	var err error
	m.latency = register(reg, m.latency, &err)
	m.rows = register(reg, m.rows, &err)
	m.errors = register(reg, m.errors, &err)
	m.rejected = register(reg, m.rejected, &err)
	return m, err
}

func register[C prometheus.Collector](reg *prometheus.Registry, c C, errp *error) C {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	switch {
	case err == nil:
		return c
	case errors.As(err, &are):
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	if *errp == nil {
		*errp = err
	}
	return c
}

func (m *metrics) observe(table string, rows int, start time.Time, err error) {
	m.latency.WithLabelValues(table).Observe(time.Since(start).Seconds())
	if err != nil {
		m.errors.WithLabelValues(table, Classify(err)).Inc()
		return
	}
	m.rows.WithLabelValues(table).Add(float64(rows))
}
