package pipeline

import (
	"context"

	"github.com/wapipe/wapipe/internal/backoff"
	"github.com/wapipe/wapipe/internal/connect"
)

// retrier is the worker's one backoff policy applied to the brokers: each retry counted on
// wapipe_retries_total{dependency} as it happens, the dependency reported down and up to
// Config.Health, a recovery logged once with its length.
func (s *source) retrier(dependency string) backoff.Retrier {
	return backoff.Retrier{Policy: backoff.Default, Dependency: dependency, Log: s.log,
		OnRetry: backoff.Count(s.metrics.Retries), OnDown: s.cfg.Health.SetDown, OnUp: s.cfg.Health.SetUp}
}

// retryAfter retries op with the policy of dependency after op failed once with err (that
// failure is the first attempt, so the first wait comes before op runs again). It returns
// nil once op succeeds, or an error when ctx ends first.
func (s *source) retryAfter(ctx context.Context, dependency, what string, err error, op func() error) error {
	first := connect.Explain("kafka", err) // a refused login or a TLS failure named as such
	return s.retrier(dependency).Do(ctx, what, func() error {
		if first != nil {
			e := first
			first = nil
			return e
		}
		return connect.Explain("kafka", op())
	})
}
