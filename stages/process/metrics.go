package process

import "github.com/prometheus/client_golang/prometheus"

// CountDuplicates registers wapipe_events_duplicate_total on reg and returns the
// Stage.Duplicates that counts on it.
func CountDuplicates(reg prometheus.Registerer) func() {
	duplicates := prometheus.NewCounter(prometheus.CounterOpts{Name: "wapipe_events_duplicate_total",
		Help: "Events dropped as already counted."})
	reg.MustRegister(duplicates)
	return duplicates.Inc
}
