package durable

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wapipe/wapipe/internal/backoff"
	"github.com/wapipe/wapipe/internal/health"
)

// observers are what the sink reports to operators: retries per dependency as they happen
// (wapipe_retries_total) and which dependency is down (/readyz).
type observers struct {
	retries *prometheus.CounterVec
	deps    *health.Deps
}

// Observe makes the sink count its retries on retries (backoff.Retries) and report
// ClickHouse and Kafka (dead letters) up or down to deps. Either may be nil.
func (s *Sink) Observe(retries *prometheus.CounterVec, deps *health.Deps) *Sink {
	s.obs = observers{retries: retries, deps: deps}
	return s
}

func (s *Sink) retrier(dep string) backoff.Retrier {
	return backoff.Retrier{Policy: backoff.Default, Dependency: dep, Log: s.log,
		OnRetry: backoff.Count(s.obs.retries), OnDown: s.obs.deps.SetDown, OnUp: s.obs.deps.SetUp}
}
