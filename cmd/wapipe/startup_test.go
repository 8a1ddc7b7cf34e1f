package main

import (
	"context"
	"errors"
	"testing"

	"github.com/wapipe/wapipe/internal/health"
)

// While starting, /readyz says what the worker waits for and names the dependencies down
// (ClickHouse while the migrations wait for it), as it does once running.
func TestStartingReadinessNamesWhatIsDown(t *testing.T) {
	deps := &health.Deps{}
	st := newStartup("ClickHouse: applying migrations", deps)
	if err := st.readiness(context.Background()); !errors.Is(err, errStarting) {
		t.Fatalf("starting with nothing down: %v", err)
	}
	deps.SetDown(health.ClickHouse, errors.New("connection refused"))
	var nr *health.NotReady
	if err := st.readiness(context.Background()); !errors.As(err, &nr) || len(nr.Down) != 1 ||
		nr.Down[0].Dependency != health.ClickHouse || nr.Reason != "starting: ClickHouse: applying migrations" {
		t.Fatalf("starting with ClickHouse down: %v %+v", err, nr)
	}
	if err := st.liveness(context.Background()); err != nil {
		t.Errorf("/healthz while starting: %v, want alive", err)
	}
}
