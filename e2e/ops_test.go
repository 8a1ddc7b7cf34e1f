package e2e

import (
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

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
// they happen and /readyz names clickhouse, while /healthz stays 200 (a dependency away is
// not a stall, even past --stall-timeout); after recovery lag and in-flight return to 0.
func TestClickHouseOutageShowsInMetrics(t *testing.T) {
	e := newEnv(t, 2)
	proxy := withClickHouseProxy(t, e)
	msgs, _ := generate(2_000, 17, 0)
	half := len(msgs) / 2
	e.produce(msgs[:half])
	w := e.startWorker(t.TempDir(), "--stall-timeout", "2s", "--log-level", "info")
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
	if code := w.get("/healthz"); code != 200 {
		t.Errorf("/healthz during a ClickHouse outage: %d, want 200", code)
	}

	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "every offset committed after the outage", func() bool { return e.committed("wapipe", 2) == int64(len(msgs)) })
	waitFor(t, 15*time.Second, "lag and in-flight to return to 0", func() bool {
		return w.metricSum("wapipe_consumer_lag") == 0 && w.metricSum("wapipe_records_in_flight") == 0
	})
	if lines := w.logGrep(`"msg":"recovered","dependency":"clickhouse","outage":`); len(lines) != 1 {
		t.Errorf("the outage's end logged %d times, want once:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	w.stop(t)
}

// A worker stuck with every dependency up (ClickHouse's connections hang: no error, no
// answer) answers /healthz 503 once input has waited --stall-timeout without a record made
// durable, and 200 again once records flow.
func TestStuckWorkerFailsHealthz(t *testing.T) {
	e := newEnv(t, 1)
	proxy := withClickHouseProxy(t, e)
	msgs, _ := generate(400, 19, 0)
	e.produce(msgs[:200])
	w := e.startWorker(t.TempDir(), "--stall-timeout", "3s")
	waitFor(t, 90*time.Second, "the first 200 committed", func() bool { return e.committed("wapipe", 1) == 200 })
	if code := w.get("/healthz"); code != 200 {
		t.Fatalf("/healthz of a worker making progress: %d", code)
	}

	proxy.Freeze()
	e.produce(msgs[200:])
	waitFor(t, 30*time.Second, "/healthz to answer 503 while the worker is stuck", func() bool { return w.get("/healthz") == 503 })
	proxy.Thaw()
	waitFor(t, 60*time.Second, "every offset committed once ClickHouse answers", func() bool { return e.committed("wapipe", 1) == 400 })
	waitFor(t, 10*time.Second, "/healthz to answer 200 again", func() bool { return w.get("/healthz") == 200 })
	w.stop(t)
}

// The brokers fail every fetch and offset request for a while: /readyz names kafka, the
// retries of kafka are counted as they happen with backoff, /healthz stays 200 (a dependency
// away), and once the brokers answer every record is committed, the worker is ready, and
// the outage's end is logged once.
func TestKafkaOutageShowsInReadyzAndMetrics(t *testing.T) {
	e := newEnv(t, 2)
	msgs, _ := generate(600, 23, 0)
	e.produce(msgs[:300])
	w := e.startWorker(t.TempDir(), "--stall-timeout", "2s", "--log-level", "info")
	waitFor(t, 90*time.Second, "the first 300 committed", func() bool { return e.committed("wapipe", 2) == 300 })
	waitFor(t, 10*time.Second, "/readyz to say ready", func() bool { return w.ready() == 200 })

	var down atomic.Bool
	down.Store(true)
	for _, key := range []kmsg.Key{kmsg.Fetch, kmsg.ListOffsets} {
		e.cluster.ControlKey(int16(key), func(kmsg.Request) (kmsg.Response, error, bool) {
			e.cluster.KeepControl()
			if down.Load() {
				return nil, errors.New("broker away"), true // kfake closes the connection
			}
			return nil, nil, false
		})
	}
	e.produce(msgs[300:])
	waitFor(t, 30*time.Second, "/readyz to name kafka", func() bool {
		body, _ := httpGet("http://" + w.http + "/readyz")
		return strings.Contains(body, `"dependency":"kafka"`)
	})
	retries := w.metricSum("wapipe_retries_total", `dependency="kafka"`)
	waitFor(t, 30*time.Second, "kafka retries counted as they happen", func() bool {
		return w.metricSum("wapipe_retries_total", `dependency="kafka"`) > retries
	})
	time.Sleep(3 * time.Second) // past --stall-timeout
	if code := w.get("/healthz"); code != 200 {
		t.Errorf("/healthz during a Kafka outage: %d, want 200", code)
	}
	if logged := w.logGrep(`"msg":"kafka-go: `); len(logged) == 0 {
		t.Error("kafka-go's errors did not reach the log")
	}

	down.Store(false)
	waitFor(t, 60*time.Second, "every offset committed after the outage", func() bool { return e.committed("wapipe", 2) == 600 })
	waitFor(t, 20*time.Second, "/readyz to say ready again", func() bool { return w.ready() == 200 })
	if lines := w.logGrep(`"msg":"recovered","dependency":"kafka","outage":`); len(lines) != 1 {
		t.Errorf("the Kafka outage's end logged %d times, want once:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	w.stop(t)
}

// SIGTERM while a batch cannot be written: the worker drains, and meanwhile /metrics and
// /healthz still answer (the HTTP server stops last) and /readyz says it is shutting down;
// once ClickHouse answers the drain completes, everything is committed and the exit is 0.
func TestMetricsAnswerWhileDraining(t *testing.T) {
	e := newEnv(t, 1)
	proxy := withClickHouseProxy(t, e)
	msgs, _ := generate(300, 29, 0)
	e.produce(msgs[:100])
	w := e.startWorker(t.TempDir(), "--shutdown-timeout", "60s")
	waitFor(t, 90*time.Second, "the first 100 committed", func() bool { return e.committed("wapipe", 1) == 100 })

	proxy.Freeze()
	e.produce(msgs[100:])
	waitFor(t, 30*time.Second, "records in flight", func() bool { return w.metricSum("wapipe_records_in_flight") > 0 })
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if !w.alive() {
		t.Fatal("the worker exited with a batch not durable")
	}
	if code := w.get("/metrics"); code != 200 {
		t.Errorf("/metrics while draining: %d, want 200", code)
	}
	if code := w.get("/healthz"); code != 200 {
		t.Errorf("/healthz while draining: %d, want 200", code)
	}
	if body, _ := httpGet("http://" + w.http + "/readyz"); !strings.Contains(body, "shutting down") {
		t.Errorf("/readyz while draining: %q, want it to say shutting down", body)
	}
	proxy.Thaw()
	select {
	case err := <-w.exited:
		if err != nil {
			t.Fatalf("worker exited with %v after draining", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the worker did not finish draining within 60 s of ClickHouse answering")
	}
	if got := e.committed("wapipe", 1); got < 100 {
		t.Errorf("committed %d after the drain", got)
	}
}
