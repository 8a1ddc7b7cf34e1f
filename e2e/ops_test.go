package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wapipe/wapipe/internal/tcpproxy"
)

// metricSum adds every series of name on the worker's /metrics whose labels contain each
// of labels (e.g. `dependency="clickhouse"`); -1 when the page does not answer.
func (w *worker) metricSum(name string, labels ...string) float64 {
	page, err := httpGet("http://" + w.http + "/metrics")
	if err != nil {
		return -1
	}
	var sum float64
	for _, line := range strings.Split(page, "\n") {
		series, val, ok := strings.Cut(line, " ")
		if !ok || (series != name && !strings.HasPrefix(series, name+"{")) {
			continue
		}
		match := true
		for _, l := range labels {
			match = match && strings.Contains(series, l)
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil && match {
			sum += v
		}
	}
	return sum
}

// withClickHouseProxy points the env's workers at a proxy of ClickHouse that the test cuts.
func withClickHouseProxy(t *testing.T, e *env) *tcpproxy.Proxy {
	t.Helper()
	p, err := tcpproxy.Start(e.chAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	e.chAddr = p.Addr()
	return p
}

// During a ClickHouse outage the operator sees it: the lag from the committed offset grows
// with what is produced, records wait in flight, the retries of clickhouse are counted as
// they happen and /readyz names clickhouse; after recovery lag and in-flight return to 0.
func TestClickHouseOutageShowsInMetrics(t *testing.T) {
	e := newEnv(t, 2)
	proxy := withClickHouseProxy(t, e)
	msgs, _ := generate(2_000, 17, 0)
	half := len(msgs) / 2
	e.produce(msgs[:half])
	w := e.startWorker(t.TempDir())
	waitFor(t, 90*time.Second, "the first half to be committed", func() bool { return e.committed("wapipe", 2) == int64(half) })
	waitFor(t, 10*time.Second, "the lag to read 0", func() bool { return w.metricSum("wapipe_consumer_lag") == 0 })

	proxy.Cut()
	e.produce(msgs[half:])
	waitFor(t, 30*time.Second, "the lag to count the records produced during the outage", func() bool {
		return w.metricSum("wapipe_consumer_lag") == float64(len(msgs)-half)
	})
	if n := w.metricSum("wapipe_records_in_flight"); n <= 0 {
		t.Errorf("records in flight during the outage: %v, want > 0", n)
	}
	retries := w.metricSum("wapipe_retries_total", `dependency="clickhouse"`)
	waitFor(t, 30*time.Second, "clickhouse retries to be counted as they happen", func() bool {
		return w.metricSum("wapipe_retries_total", `dependency="clickhouse"`) > retries
	})
	if body, _ := httpGet("http://" + w.http + "/readyz"); !strings.Contains(body, `"dependency":"clickhouse"`) {
		t.Errorf("/readyz during the outage does not name clickhouse: %s", body)
	}

	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "every offset committed after the outage", func() bool { return e.committed("wapipe", 2) == int64(len(msgs)) })
	waitFor(t, 15*time.Second, "lag and in-flight to return to 0", func() bool {
		return w.metricSum("wapipe_consumer_lag") == 0 && w.metricSum("wapipe_records_in_flight") == 0
	})
	w.stop(t)
}
