package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/wapipe/wapipe/internal/health"
)

// errStarting is what /readyz, /v1/contacts and /v1/recipient answer (503) before the worker is up.
var errStarting = errors.New("starting")

// startup lets the worker's HTTP server answer from its first moment, not only once
// ClickHouse, the state and the stages are ready: /healthz at once, /readyz with what the
// worker still waits for, /v1/contacts once the identity store is open. An orchestrator
// then sees a live worker waiting for ClickHouse rather than a port that refuses.
type startup struct {
	deps  *health.Deps // what is down while starting (ClickHouse during the migrations)
	phase atomic.Pointer[string]
	ready atomic.Pointer[readiness]
	live  atomic.Pointer[readiness]
	find  atomic.Pointer[contactFinder]
}

func newStartup(phase string, deps *health.Deps) *startup {
	s := &startup{deps: deps}
	s.waitingFor(phase)
	return s
}

// waitingFor names what the worker waits for now.
func (s *startup) waitingFor(what string) { s.phase.Store(&what) }

// up hands the HTTP server the worker's own readiness, liveness and lookup.
func (s *startup) up(ready, live readiness, find contactFinder) {
	s.find.Store(&find)
	s.live.Store(&live)
	s.ready.Store(&ready)
}

// liveness is nil (alive) while starting: waiting for a dependency is not a stall.
func (s *startup) liveness(ctx context.Context) error {
	if l := s.live.Load(); l != nil {
		return (*l)(ctx)
	}
	return nil
}

func (s *startup) readiness(ctx context.Context) error {
	if r := s.ready.Load(); r != nil {
		return (*r)(ctx)
	}
	if down := s.deps.Down(); len(down) > 0 {
		return &health.NotReady{Reason: "starting: " + *s.phase.Load(), Down: down}
	}
	return fmt.Errorf("%w: %s", errStarting, *s.phase.Load())
}

func (s *startup) finder(tenant, keyType, value string) ([]contactJSON, error) {
	if f := s.find.Load(); f != nil {
		return (*f)(tenant, keyType, value)
	}
	return nil, fmt.Errorf("%w: %s", errStarting, *s.phase.Load())
}
