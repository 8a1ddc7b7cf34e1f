package backoff

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Retries returns wapipe_retries_total{dependency} registered on reg; every component that
// asks for it on the same registry shares one collector (nil reg: unregistered).
func Retries(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wapipe_retries_total",
		Help: "Failed attempts that were retried, as they happen, by dependency."}, []string{"dependency"})
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				return existing
			}
		}
		panic(err)
	}
	return c
}

// Count adapts a retries metric to Retrier.OnRetry.
func Count(c *prometheus.CounterVec) func(string) {
	if c == nil {
		return nil
	}
	return func(dep string) { c.WithLabelValues(dep).Inc() }
}
