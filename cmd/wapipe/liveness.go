package main

import (
	"context"
	"fmt"
	"time"

	"github.com/wapipe/wapipe/internal/health"
	"github.com/wapipe/wapipe/pipeline"
)

// stallCheck answers /healthz: an error when input has waited longer than after with no
// record made durable while no dependency is down. A dependency that is away is /readyz's
// business (the worker waits and retries, and a restart would not bring it back); a worker
// stuck with everything up is what an orchestrator should restart.
func stallCheck(runner *pipeline.Runner, deps *health.Deps, sink interface{ Healthy() bool }, after time.Duration) readiness {
	return func(context.Context) error {
		idle, stalled := runner.Stalled(after)
		if !stalled || len(deps.Down()) > 0 || !sink.Healthy() {
			return nil
		}
		return fmt.Errorf("stalled: input waiting and no record made durable for %s, with every dependency up", idle.Round(time.Second))
	}
}
