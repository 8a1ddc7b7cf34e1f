package gateway

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// kafkaHealth is what /readyz reports about Kafka: up, or down since a time with a cause.
// Writes set it; so does a probe (Gateway.Probe) while no write has failed lately, so that
// readiness recovers without traffic (a load balancer that routes by /readyz sends none to
// an unready gateway) and a gateway that cannot reach Kafka is unready before its first
// request.
type kafkaHealth struct {
	mu         sync.Mutex
	down       bool
	since      time.Time
	cause      string
	lastFailed time.Time // last failed write
	reached    bool      // Kafka was up once: later ups are recoveries
	warned     bool      // this outage (or the wait for a first contact) was logged
	log        *slog.Logger
	onChange   func(up bool)
}

func (h *kafkaHealth) set(up bool, cause string, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case up && h.down && !h.reached:
		h.log.Info("kafka reached", "after", now.Sub(h.since).Round(time.Millisecond).String())
		h.down, h.cause, h.reached, h.warned = false, "", true, false
		h.onChange(true)
	case up && h.down:
		h.log.Info("kafka writes recovered", "down_for", now.Sub(h.since).Round(time.Millisecond).String(), "cause", h.cause)
		h.down, h.cause, h.warned = false, "", false
		h.onChange(true)
	case !up && !h.down:
		h.log.Warn("kafka writes failing: answering 503 and /readyz 503", "cause", cause)
		h.down, h.since, h.cause, h.warned = true, now, cause, true
		h.onChange(false)
	case !up:
		h.cause = cause // still down; keep the start of the outage, name the latest cause
		if !h.warned {  // Kafka not reached since the start: say so once
			h.log.Warn("kafka not reachable: answering 503 and /readyz 503", "cause", cause)
			h.warned = true
		}
	}
}

func (h *kafkaHealth) written(now time.Time) { h.set(true, "", now) }

func (h *kafkaHealth) writeFailed(cause string, now time.Time) {
	h.mu.Lock()
	h.lastFailed = now
	h.mu.Unlock()
	h.set(false, cause, now)
}

// probed records a probe's outcome. A successful probe makes Kafka up only when no write
// failed within quiet: a broker that answers metadata but does not acknowledge writes stays
// down while traffic shows it.
func (h *kafkaHealth) probed(err error, quiet time.Duration, now time.Time) {
	if err != nil {
		h.set(false, "probe: "+err.Error(), now)
		return
	}
	h.mu.Lock()
	recent := !h.lastFailed.IsZero() && now.Sub(h.lastFailed) < quiet
	h.mu.Unlock()
	if !recent {
		h.set(true, "", now)
	}
}

type dependencyDown struct {
	Dependency string `json:"dependency"`
	Since      string `json:"since"`
	Cause      string `json:"cause"`
}

type readyBody struct {
	Ready bool             `json:"ready"`
	Down  []dependencyDown `json:"down,omitempty"`
}

func (h *kafkaHealth) serveReady(w http.ResponseWriter, _ *http.Request) {
	h.mu.Lock()
	b := readyBody{Ready: !h.down}
	if h.down {
		b.Down = []dependencyDown{{Dependency: "kafka", Since: h.since.UTC().Format(time.RFC3339), Cause: h.cause}}
	}
	h.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if !b.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(b)
}

// Probe checks Kafka with probe every interval until ctx ends (more often while Kafka is
// down), for readiness when no write says how Kafka is.
func (g *Gateway) Probe(ctx context.Context, probe func(context.Context) error, interval time.Duration) {
	for {
		c, cancel := context.WithTimeout(ctx, min(interval, 5*time.Second)+time.Second)
		err := probe(c)
		cancel()
		if ctx.Err() != nil {
			return
		}
		g.health.probed(err, interval, g.now())
		wait := interval
		if g.health.isDown() {
			wait = min(interval, time.Second)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

func (h *kafkaHealth) isDown() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.down
}
