package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wapipe/wapipe/internal/health"
)

// /readyz answers 503 with a JSON body naming each dependency down and since when, or
// the reason alone when nothing is down; 200 when ready.
func TestReadyzNamesWhatIsDown(t *testing.T) {
	deps := &health.Deps{}
	var why error
	ready := func(context.Context) error {
		if down := deps.Down(); len(down) > 0 {
			return &health.NotReady{Reason: "dependencies down", Down: down}
		}
		return why
	}
	alive := func(context.Context) error { return nil }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := serveHTTP(ctx, "127.0.0.1:0", prometheus.NewRegistry(), ready, alive, nil, apiAccess{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	get := func() (int, health.NotReady) {
		t.Helper()
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body health.NotReady
		if resp.StatusCode != 200 {
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("/readyz %d: body is not JSON: %v", resp.StatusCode, err)
			}
		}
		return resp.StatusCode, body
	}
	if code, _ := get(); code != 200 {
		t.Fatalf("/readyz with nothing down: %d", code)
	}
	before := time.Now().Add(-time.Second)
	deps.SetDown(health.ClickHouse, errors.New("dial tcp: connection refused"))
	code, body := get()
	if code != 503 || len(body.Down) != 1 || body.Down[0].Dependency != "clickhouse" || body.Down[0].Since.Before(before) ||
		body.Down[0].Error != "dial tcp: connection refused" {
		t.Fatalf("/readyz with ClickHouse down: %d %+v", code, body)
	}
	deps.SetUp(health.ClickHouse)
	why = errors.New("not consuming: no partitions assigned yet")
	if code, body := get(); code != 503 || body.Reason != why.Error() || body.Down == nil || len(body.Down) != 0 {
		t.Fatalf("/readyz while not consuming: %d %+v", code, body)
	}
}
