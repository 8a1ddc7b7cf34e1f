// Package e2e runs the real wapipe binary as a separate process against kfake (the
// in-memory broker that speaks the Kafka protocol) and the private ClickHouse started by
// scripts/clickhouse.sh, and checks what analysts would see in ClickHouse.
package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
)

const (
	topic    = "whatsapp.webhooks"
	dlqTopic = "whatsapp.webhooks.dlq"
)

var binary string // the wapipe binary built by TestMain

func TestMain(m *testing.M) {
	if os.Getenv("WAPIPE_TEST_CLICKHOUSE") == "" {
		if os.Getenv("CI") != "" {
			fmt.Fprintln(os.Stderr, "e2e: WAPIPE_TEST_CLICKHOUSE is not set; run the tests with `make test`")
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "e2e: skipped: WAPIPE_TEST_CLICKHOUSE is not set (run `make test`)")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "wapipe-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "wapipe")
	build := exec.Command("go", "build", "-race", "-o", binary, "./cmd/wapipe")
	build.Dir = ".."
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building wapipe:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is one test's world: a broker, a fresh ClickHouse database, and workers.
type env struct {
	t        *testing.T
	brokers  string
	chAddr   string
	database string
	conn     driver.Conn
	cluster  *kfake.Cluster // the in-process broker, for tests that make it fail
}

func newEnv(t *testing.T, partitions int) *env {
	t.Helper()
	return newEnvWith(t, partitions)
}

func (e *env) connect() driver.Conn {
	conn, err := ch.Open(&ch.Options{Addr: []string{e.chAddr}, DialTimeout: 5 * time.Second})
	if err != nil {
		e.t.Fatal(err)
	}
	return conn
}

// count runs a query returning one number; -1 when ClickHouse cannot answer.
// Queries name the test's database as $db.
func (e *env) count(query string) int64 {
	var n uint64
	q := strings.ReplaceAll(query, "$db", e.database)
	if err := e.conn.QueryRow(context.Background(), q).Scan(&n); err != nil {
		return -1
	}
	return int64(n)
}

// produce sends bodies keyed as wapipe produce keys them.
func (e *env) produce(msgs []kafka.Message) {
	e.t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(e.brokers), Topic: topic, Balancer: &kafka.Hash{},
		BatchTimeout: 5 * time.Millisecond, BatchSize: 500, BatchBytes: 1 << 20, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	for i := 0; i < len(msgs); i += 2000 {
		end := min(i+2000, len(msgs))
		if err := w.WriteMessages(context.Background(), msgs[i:end]...); err != nil {
			e.t.Fatal(err)
		}
	}
}

// worker is a wapipe run process.
type worker struct {
	cmd    *exec.Cmd
	http   string
	logs   string
	exited chan error
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startWorker runs `wapipe run` with this env's broker and database and a state dir.
func (e *env) startWorker(stateDir string, extra ...string) *worker {
	e.t.Helper()
	w := &worker{http: freePort(e.t), logs: filepath.Join(e.t.TempDir(), "worker.log"), exited: make(chan error, 1)}
	args := append([]string{"run", "--brokers", e.brokers, "--clickhouse", e.chAddr, "--database", e.database,
		"--state-dir", stateDir, "--listen", w.http, "--batch-age", "200ms", "--log-level", "warn"}, extra...)
	w.cmd = exec.Command(binary, args...)
	f, err := os.Create(w.logs)
	if err != nil {
		e.t.Fatal(err)
	}
	w.cmd.Stdout, w.cmd.Stderr = f, f
	if err := w.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { w.exited <- w.cmd.Wait(); f.Close() }()
	e.t.Cleanup(func() {
		if w.cmd.ProcessState == nil {
			_ = w.cmd.Process.Kill()
		}
		if e.t.Failed() {
			b, _ := os.ReadFile(w.logs)
			e.t.Logf("worker log (%s):\n%s", w.http, tail(string(b), 4000))
		}
	})
	return w
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// stop sends SIGTERM and waits for a clean exit.
func (w *worker) stop(t *testing.T) {
	t.Helper()
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-w.exited:
		if err != nil {
			t.Fatalf("worker exited with %v after SIGTERM", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("worker did not exit within 60s of SIGTERM")
	}
}

func (w *worker) alive() bool {
	select {
	case err := <-w.exited:
		w.exited <- err
		return false
	default:
		return true
	}
}

// ready reports the worker's /readyz status code (0 when it does not answer).
func (w *worker) ready() int { return w.get("/readyz") }

// get reports the status code of a GET of path on the worker's HTTP (0 when it does not answer).
func (w *worker) get(path string) int {
	resp, err := http.Get("http://" + w.http + path)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitFor polls cond until it holds; on time-out it fails the test, naming what it waited for.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Errorf("timed out after %v waiting for %s", timeout, what)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// committed returns the group's committed offsets summed over partitions.
func (e *env) committed(group string, partitions int) int64 {
	c := &kafka.Client{Addr: kafka.TCP(e.brokers), Timeout: 5 * time.Second}
	ps := make([]int, partitions)
	for i := range ps {
		ps[i] = i
	}
	resp, err := c.OffsetFetch(context.Background(), &kafka.OffsetFetchRequest{GroupID: group,
		Topics: map[string][]int{topic: ps}})
	if err != nil {
		e.t.Fatal(err)
	}
	var sum int64
	for _, p := range resp.Topics[topic] {
		if p.CommittedOffset > 0 {
			sum += p.CommittedOffset
		}
	}
	return sum
}
