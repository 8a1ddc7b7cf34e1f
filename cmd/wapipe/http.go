package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wapipe/wapipe/internal/health"
)

// readiness answers /readyz (nil when the worker consumes and ClickHouse answers) and
// /healthz (nil unless the pipeline is stalled).
type readiness func(ctx context.Context) error

// contactFinder answers GET /v1/contacts and /v1/recipient: today's contact in each tenant
// that knows the key (one at most when tenant is given), best first; none is a 404.
type contactFinder func(tenant, keyType, value string) ([]contactJSON, error)

// serveHTTP serves /metrics, /healthz, /readyz, /v1/contacts, /v1/recipient and, with --pprof,
// /debug/pprof/ on addr until ctx ends; access guards /v1/ and /debug/pprof/ (apiAccess).
func serveHTTP(ctx context.Context, addr string, reg *prometheus.Registry, ready, live readiness, find contactFinder, access apiAccess, log *slog.Logger) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	access.local = isLoopback(ln.Addr())
	if access.token == "" && !access.local {
		log.Warn("--listen is not a loopback address and there is no --api-token: /v1/ answers 403 (contact data is never served unauthenticated beyond the local host)",
			"listen", ln.Addr().String())
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	// Profiles of a live worker under real load are what tell where its time goes (go run ./bench
	// fetches them with --pprof).
	access.servePprof(mux)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := live(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable) // stalled: a restart is the cure
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		c, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := ready(c); err != nil {
			// JSON names each dependency down and since when (contract section 12).
			nr := &health.NotReady{Reason: err.Error()}
			errors.As(err, &nr)
			if nr.Down == nil {
				nr.Down = []health.Outage{}
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(nr)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("/v1/", access.guard(v1Handler(find)))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(c)
	}()
	return ln.Addr().String(), nil
}

// v1Handler serves the lookup API: GET /v1/contacts and /v1/recipient.
func v1Handler(find contactFinder) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/contacts", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		for _, kt := range []string{"bsuid", "username", "phone", "parent_bsuid", keyContactID} {
			if v := q.Get(kt); v != "" {
				cs, err := find(q.Get("tenant"), kt, v)
				switch {
				case errors.Is(err, errStarting):
					http.Error(w, err.Error(), http.StatusServiceUnavailable)
				case err != nil:
					http.Error(w, err.Error(), http.StatusInternalServerError)
				case len(cs) == 0:
					http.Error(w, "contact not found", http.StatusNotFound)
				default:
					w.Header().Set("Content-Type", "application/json")
					_ = json.NewEncoder(w).Encode(cs[0])
				}
				return
			}
		}
		http.Error(w, "give one of bsuid, username, phone, contact_id (and optionally tenant)", http.StatusBadRequest)
	})
	mux.HandleFunc("/v1/recipient", recipientHandler(find))
	return mux
}

// recipientHandler answers GET /v1/recipient?tenant=T&(bsuid=|username=|phone=|contact_id=)&purpose=P
// (contract section 9) with the JSON recipientAnswer gives, under its status.
func recipientHandler(find contactFinder) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		purpose := cmp.Or(q.Get("purpose"), purposeMessage)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeJSON(w, http.StatusMethodNotAllowed, recipientJSON{Purpose: purpose, Error: "method_not_allowed", Reason: "use GET"})
			return
		}
		keyType, value, err := recipientKey(func(k string) string { return q.Get(k) })
		if err != nil {
			writeJSON(w, http.StatusBadRequest, recipientJSON{Purpose: purpose, Error: "bad_request", Reason: err.Error()})
			return
		}
		tenant := q.Get("tenant")
		cs, err := find(tenant, keyType, value)
		switch {
		case errors.Is(err, errStarting):
			writeJSON(w, http.StatusServiceUnavailable, recipientJSON{Purpose: purpose, Error: "starting", Reason: err.Error()})
		case err != nil:
			writeJSON(w, http.StatusInternalServerError, recipientJSON{Purpose: purpose, Error: "internal", Reason: err.Error()})
		default:
			status, body := recipientAnswer(cs, tenant, keyType, value, purpose)
			writeJSON(w, status, body)
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
