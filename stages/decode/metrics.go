package decode

import "github.com/prometheus/client_golang/prometheus"

// CountUnknown registers wapipe_decode_unknown_total{what} on reg and returns the
// Config.OnUnknown that counts on it (by kind only: the values are unbounded).
func CountUnknown(reg prometheus.Registerer) func(what, value string) {
	unknown := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wapipe_decode_unknown_total",
		Help: "Unknown webhook fields, message types and statuses skipped or kept, by kind."}, []string{"what"})
	reg.MustRegister(unknown)
	return func(what, _ string) { unknown.WithLabelValues(what).Inc() }
}
