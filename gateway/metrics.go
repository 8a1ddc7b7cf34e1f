package gateway

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests    *prometheus.CounterVec
	writes      prometheus.Histogram
	writeErrors prometheus.Counter
	bytes       prometheus.Counter
	kafkaUp     prometheus.Gauge
}

// statusCodes are the answers /webhook gives; their series exist from the start at 0.
var statusCodes = []int{200, 400, 401, 403, 405, 413, 503}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wapipe_gateway_requests_total",
			Help: "Requests to /webhook, by HTTP status code of the answer."}, []string{"code"}),
		writes: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "wapipe_gateway_kafka_write_seconds",
			Help:    "Time from the start of a Kafka write to the broker's acknowledgement (or the failure).",
			Buckets: []float64{.001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}),
		writeErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "wapipe_gateway_kafka_write_errors_total",
			Help: "Kafka writes that were not acknowledged in time (each answered 503)."}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "wapipe_gateway_forwarded_bytes_total",
			Help: "Body bytes written to Kafka and acknowledged."}),
		kafkaUp: prometheus.NewGauge(prometheus.GaugeOpts{Name: "wapipe_gateway_kafka_up",
			Help: "1 while Kafka writes succeed, 0 while they fail (/readyz 503)."}),
	}
	for _, c := range statusCodes {
		m.requests.WithLabelValues(strconv.Itoa(c))
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.writes, m.writeErrors, m.bytes, m.kafkaUp)
	}
	return m
}

func (m *metrics) answered(code int) { m.requests.WithLabelValues(strconv.Itoa(code)).Inc() }
