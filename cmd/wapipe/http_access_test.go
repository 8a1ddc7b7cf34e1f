package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// serveAccess starts the worker's HTTP on listen with access, finding one contact for any key.
func serveAccess(t *testing.T, listen string, access apiAccess) (base string, logs *strings.Builder) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	find := func(tenant, keyType, value string) ([]contactJSON, error) {
		return []contactJSON{{TenantID: "acme", ContactID: "c1", Phone: "573015550142"}}, nil
	}
	logs = &strings.Builder{}
	fine := func(context.Context) error { return nil }
	addr, err := serveHTTP(ctx, listen, prometheus.NewRegistry(), fine, fine, find, access,
		slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(addr)
	return "http://127.0.0.1:" + port, logs
}

func status(t *testing.T, url, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// With --api-token, /v1/ and /debug/pprof/ need the bearer token (401 without or with a wrong
// one, 200 with it); /metrics, /healthz and /readyz stay open.
func TestAPITokenGuardsContactsAndProfiles(t *testing.T) {
	base, _ := serveAccess(t, "127.0.0.1:0", apiAccess{token: "t0ken-value", pprof: true})
	for _, path := range []string{"/v1/contacts?phone=573015550142", "/v1/recipient?phone=573015550142", "/debug/pprof/", "/debug/pprof/symbol"} {
		if got := status(t, base+path, ""); got != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d, want 401", path, got)
		}
		if got := status(t, base+path, "t0ken-valuf"); got != http.StatusUnauthorized {
			t.Errorf("%s with a wrong token: %d, want 401", path, got)
		}
		if got := status(t, base+path, "t0ken-value"); got != http.StatusOK {
			t.Errorf("%s with the token: %d, want 200", path, got)
		}
	}
	for _, path := range []string{"/metrics", "/healthz", "/readyz"} {
		if got := status(t, base+path, ""); got != http.StatusOK {
			t.Errorf("%s without a token: %d, want 200 (it stays open)", path, got)
		}
	}
	if got := status(t, base+"/debug/pprof/cmdline", "t0ken-value"); got == http.StatusOK {
		t.Errorf("/debug/pprof/cmdline is served: it would show a secret given as a flag")
	}
}

// Profiles are served only with --pprof.
func TestPprofOffByDefault(t *testing.T) {
	base, _ := serveAccess(t, "127.0.0.1:0", apiAccess{})
	if got := status(t, base+"/debug/pprof/", ""); got != http.StatusNotFound {
		t.Errorf("/debug/pprof/ without --pprof: %d, want 404", got)
	}
	if got := status(t, base+"/v1/contacts?phone=1", ""); got != http.StatusOK {
		t.Errorf("/v1/contacts on loopback without a token: %d, want 200", got)
	}
}

// On a non-loopback address without a token, /v1/ answers 403 and a warning says why;
// /metrics stays open.
func TestNoContactDataBeyondLoopbackWithoutToken(t *testing.T) {
	base, logs := serveAccess(t, "0.0.0.0:0", apiAccess{pprof: true})
	if got := status(t, base+"/v1/contacts?phone=1", ""); got != http.StatusForbidden {
		t.Errorf("/v1/contacts on 0.0.0.0 without a token: %d, want 403", got)
	}
	if got := status(t, base+"/debug/pprof/", ""); got != http.StatusForbidden {
		t.Errorf("/debug/pprof/ on 0.0.0.0 without a token: %d, want 403", got)
	}
	if got := status(t, base+"/metrics", ""); got != http.StatusOK {
		t.Errorf("/metrics: %d, want 200", got)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "--api-token") {
		t.Errorf("no warning at start naming --api-token; log:\n%s", logs)
	}
	withToken, _ := serveAccess(t, "0.0.0.0:0", apiAccess{token: "t0ken-value"})
	if got := status(t, withToken+"/v1/contacts?phone=1", "t0ken-value"); got != http.StatusOK {
		t.Errorf("/v1/contacts on 0.0.0.0 with the token: %d, want 200", got)
	}
}
