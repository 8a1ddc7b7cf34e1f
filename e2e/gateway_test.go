package e2e

// The webhook gateway (contract section 8) as a real process: wapipe gateway in front of
// kfake (in this process, or a wapipe broker process that is stopped and restarted), and a
// webhook that enters through it ending as a chat_report row.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
)

const (
	gwSecretA   = "e2e-app-secret-old"
	gwSecretB   = "e2e-app-secret-new"
	gwToken     = "e2e-verify-token"
	exampleText = "/work/shared/webhooks/examples/inbound-text-phone-and-bsuid.json"
)

func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// startGateway runs wapipe gateway against brokers with both test secrets (one from the
// environment, one from a file) and the verify token, and waits until it answers /healthz.
func startGateway(t *testing.T, brokers string, extra ...string) *worker {
	t.Helper()
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte("\n"+gwSecretB+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := &worker{http: freePort(t), logs: filepath.Join(dir, "gateway.log"), exited: make(chan error, 1)}
	args := append([]string{"gateway", "--brokers", brokers, "--listen", g.http, "--app-secret-file", secretFile}, extra...)
	g.cmd = exec.Command(binary, args...)
	g.cmd.Env = append(os.Environ(), "WAPIPE_APP_SECRET="+gwSecretA, "WAPIPE_VERIFY_TOKEN="+gwToken)
	f, err := os.Create(g.logs)
	if err != nil {
		t.Fatal(err)
	}
	g.cmd.Stdout, g.cmd.Stderr = f, f
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { g.exited <- g.cmd.Wait(); f.Close() }()
	t.Cleanup(func() {
		if g.cmd.ProcessState == nil {
			_ = g.cmd.Process.Kill()
		}
		b, _ := os.ReadFile(g.logs)
		for _, s := range []string{gwSecretA, gwSecretB, gwToken} {
			if strings.Contains(string(b), s) {
				t.Errorf("the gateway's log shows a secret:\n%s", b)
			}
		}
		if t.Failed() {
			t.Logf("gateway log (%s):\n%s", g.http, tail(string(b), 4000))
		}
	})
	waitFor(t, 20*time.Second, "the gateway to answer /healthz", func() bool { return g.get("/healthz") == 200 })
	return g
}

// post sends body to the gateway's /webhook with the signature header sig ("" for none).
func (w *worker) post(t *testing.T, body []byte, sig string) (int, time.Duration) {
	t.Helper()
	req, err := http.NewRequest("POST", "http://"+w.http+"/webhook", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set("X-Hub-Signature-256", sig)
	}
	start := time.Now()
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("POST /webhook: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, time.Since(start)
}

// readTopic reads every message of topic's partitions until want arrived, then for grace more.
func readTopic(t *testing.T, brokers string, want int, grace time.Duration) []kafka.Message {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{brokers}, Topic: topic,
		GroupID: fmt.Sprintf("e2e-gateway-%d", time.Now().UnixNano()), StartOffset: kafka.FirstOffset,
		MaxWait: 100 * time.Millisecond, MaxBytes: 16 << 20})
	defer r.Close()
	var out []kafka.Message
	deadline := time.Now().Add(20 * time.Second)
	for {
		if len(out) >= want {
			deadline = time.Now().Add(grace)
			grace = 0
		}
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		m, err := r.FetchMessage(ctx)
		cancel()
		if err != nil {
			return out
		}
		out = append(out, m)
	}
}

func headers(m kafka.Message) map[string]string {
	h := map[string]string{}
	for _, x := range m.Headers {
		h[x.Key] = string(x.Value)
	}
	return h
}

// The handshake, good and bad signatures, both secrets of a rotation, an oversized body and
// other methods; exactly the accepted bodies reach the topic, byte for byte, keyed, with headers.
func TestGatewayVerifiesAndForwards(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, topic), kfake.DefaultNumPartitions(3))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	brokers := cluster.ListenAddrs()[0]
	g := startGateway(t, brokers, "--max-body-bytes", "8192")

	if body, err := httpGet("http://" + g.http + "/webhook?hub.mode=subscribe&hub.verify_token=" + gwToken + "&hub.challenge=987654321"); err != nil || body != "987654321" {
		t.Errorf("handshake with the token: %q %v", body, err)
	}
	if c := g.get("/webhook?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1"); c != 403 {
		t.Errorf("handshake with a wrong token: %d, want 403", c)
	}

	example, err := os.ReadFile(exampleText) // pretty-printed as Meta's docs show it: the bytes must survive
	if err != nil {
		t.Fatal(err)
	}
	other := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]}]}`)
	notJSON := []byte("signed, but not JSON\n")
	big := bytes.Repeat([]byte("x"), 8193)
	for _, c := range []struct {
		name string
		body []byte
		sig  string
		want int
	}{
		{"signed with the old secret", example, sign(gwSecretA, example), 200},
		{"signed with the new secret", other, sign(gwSecretB, other), 200},
		{"signed, not JSON", notJSON, sign(gwSecretA, notJSON), 200},
		{"no signature", example, "", 401},
		{"malformed signature", example, "sha256=zz", 401},
		{"signed with another secret", example, sign("someone-else", example), 401},
		{"signature of another body", example, sign(gwSecretA, other), 401},
		{"over --max-body-bytes", big, sign(gwSecretA, big), 413},
	} {
		if got, _ := g.post(t, c.body, c.sig); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	req, _ := http.NewRequest("PUT", "http://"+g.http+"/webhook", strings.NewReader("{}"))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 405 {
		t.Errorf("PUT: %v %v, want 405", resp, err)
	} else {
		resp.Body.Close()
	}

	msgs := readTopic(t, brokers, 3, 2*time.Second)
	if len(msgs) != 3 {
		t.Fatalf("%d messages on the topic, want the 3 accepted", len(msgs))
	}
	byValue := map[string]kafka.Message{}
	for _, m := range msgs {
		byValue[string(m.Value)] = m
	}
	for _, c := range []struct {
		body []byte
		key  string
		sig  string
	}{{example, "106540352242922", sign(gwSecretA, example)}, {other, "", sign(gwSecretB, other)}, {notJSON, "", sign(gwSecretA, notJSON)}} {
		m, ok := byValue[string(c.body)]
		if !ok {
			t.Errorf("body %.40q is not on the topic byte for byte", c.body)
			continue
		}
		h := headers(m)
		at, err := time.Parse(time.RFC3339, h["x-received-at"])
		if string(m.Key) != c.key || h["x-hub-signature-256"] != c.sig || err != nil || !strings.HasSuffix(h["x-received-at"], "Z") ||
			time.Since(at) > time.Minute || len(h) != 2 {
			t.Errorf("body %.40q: key %q headers %v (parse %v)", c.body, m.Key, h, err)
		}
	}

	metrics, _ := httpGet("http://" + g.http + "/metrics")
	for _, want := range []string{`wapipe_gateway_requests_total{code="200"} 4`, `wapipe_gateway_requests_total{code="401"} 4`,
		`wapipe_gateway_requests_total{code="413"} 1`, `wapipe_gateway_requests_total{code="403"} 1`, `wapipe_gateway_requests_total{code="405"} 1`,
		"wapipe_gateway_kafka_write_seconds_count 3"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	for _, s := range []string{gwSecretA, gwSecretB, gwToken} {
		if strings.Contains(metrics, s) {
			t.Errorf("/metrics shows a secret")
		}
	}
	g.stop(t)
}

// Without an app secret the gateway refuses to start, with exit 2 and a message that says so;
// help shows no secret taken from the environment.
func TestGatewayRefusesToStartWithoutSecret(t *testing.T) {
	cmd := exec.Command(binary, "gateway", "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "WAPIPE_APP_SECRET=", "WAPIPE_APP_SECRET_FILE=")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "no app secret") {
		t.Errorf("without a secret: %v\n%s", err, out)
	}
	help := exec.Command(binary, "help", "gateway")
	help.Env = append(os.Environ(), "WAPIPE_APP_SECRET="+gwSecretA, "WAPIPE_VERIFY_TOKEN="+gwToken)
	out, err = help.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--app-secret") || strings.Contains(string(out), gwSecretA) || strings.Contains(string(out), gwToken) {
		t.Errorf("help gateway: %v\n%s", err, out)
	}
}

// brokerProc is a wapipe broker process on a fixed address, so that it can be stopped and
// started again where the gateway looks for it.
func startBrokerProc(t *testing.T, addr string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(binary, "broker", "--addr", addr, "--partitions", "3")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	waitFor(t, 20*time.Second, "the broker to listen on "+addr, func() bool {
		c, err := kafka.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return cmd
}

// Kafka goes away: POSTs are 503 within the 10 s write limit and /readyz 503 naming kafka;
// once the broker is back on its address, /readyz recovers and POSTs are 200 again.
func TestGatewayKafkaDownThenBack(t *testing.T) {
	addr := freePort(t)
	broker := startBrokerProc(t, addr)
	g := startGateway(t, addr)
	body, _ := os.ReadFile(exampleText)
	sig := sign(gwSecretA, body)
	waitFor(t, 20*time.Second, "/readyz 200 with the broker up", func() bool { return g.ready() == 200 })
	if code, _ := g.post(t, body, sig); code != 200 {
		t.Fatalf("POST with the broker up: %d", code)
	}

	_ = broker.Process.Kill()
	_ = broker.Wait()
	for i := 0; i < 2; i++ {
		code, took := g.post(t, body, sig)
		if code != 503 || took > 11*time.Second {
			t.Errorf("POST %d with the broker down: %d after %v, want 503 within 10 s", i, code, took)
		}
		t.Logf("POST with the broker down: %d after %v", code, took.Round(time.Millisecond))
	}
	readyz, _ := httpGet("http://" + g.http + "/readyz")
	if g.ready() != 503 || !strings.Contains(readyz, `"dependency":"kafka"`) || !strings.Contains(readyz, `"since"`) {
		t.Errorf("/readyz with the broker down: %d %s", g.ready(), readyz)
	}

	startBrokerProc(t, addr) // a new, empty broker on the same address
	back := time.Now()
	waitFor(t, 30*time.Second, "/readyz 200 once the broker is back (without traffic)", func() bool { return g.ready() == 200 })
	t.Logf("/readyz recovered %v after the broker was back", time.Since(back).Round(time.Millisecond))
	var code int
	waitFor(t, 30*time.Second, "a POST to be 200 again", func() bool { code, _ = g.post(t, body, sig); return code == 200 })
	msgs := readTopic(t, addr, 1, time.Second)
	if len(msgs) < 1 || !bytes.Equal(msgs[0].Value, body) {
		t.Errorf("after recovery the new broker holds %d messages, want the body", len(msgs))
	}
	if len(g.logGrep("kafka writes recovered")) != 1 {
		t.Errorf("recovery not logged once: %v", g.logGrep("kafka"))
	}
	g.stop(t)
}

// A broker that accepts connections and never answers: the POST is 503 within the 10 s limit.
func TestGatewaySilentBrokerIs503Within10s(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() }) // held open, never answered
		}
	}()
	g := startGateway(t, ln.Addr().String())
	body, _ := os.ReadFile(exampleText)
	code, took := g.post(t, body, sign(gwSecretA, body))
	if code != 503 || took > 11*time.Second {
		t.Errorf("POST to a silent broker: %d after %v, want 503 within 10 s", code, took)
	}
	t.Logf("POST to a silent broker: %d after %v", code, took.Round(time.Millisecond))
	if len(g.logGrep("kafka not reachable")) != 1 {
		t.Errorf("the failure is not logged once")
	}
	if g.ready() != 503 {
		t.Errorf("/readyz with a silent broker: %d", g.ready())
	}
	g.stop(t)
}

// SIGTERM stops accepting but finishes the request in flight (its body still arriving),
// which is written and answered 200, then the gateway exits 0.
func TestGatewaySIGTERMFinishesInFlight(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, topic), kfake.DefaultNumPartitions(3))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	brokers := cluster.ListenAddrs()[0]
	g := startGateway(t, brokers)
	body, _ := os.ReadFile(exampleText)
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", "http://"+g.http+"/webhook", pr)
	req.ContentLength = int64(len(body))
	req.Header.Set("X-Hub-Signature-256", sign(gwSecretB, body))
	answered := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("in-flight POST: %v", err)
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	_, _ = pw.Write(body[:100])
	time.Sleep(300 * time.Millisecond) // the request is in the handler, reading its body
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(300 * time.Millisecond)
	if g.get("/healthz") != 0 {
		t.Errorf("the gateway still accepts connections after SIGTERM")
	}
	_, _ = pw.Write(body[100:])
	pw.Close()
	if code := <-answered; code != 200 {
		t.Errorf("in-flight POST answered %d, want 200", code)
	}
	g.stop(t) // waits for exit 0
	if msgs := readTopic(t, brokers, 1, time.Second); len(msgs) != 1 || !bytes.Equal(msgs[0].Value, body) {
		t.Errorf("%d messages on the topic, want the in-flight body", len(msgs))
	}
}

// A webhook posted to the gateway ends as a chat_report row written by a wapipe run worker.
func TestGatewayWebhookBecomesChatReportRow(t *testing.T) {
	e := newEnv(t, 3)
	g := startGateway(t, e.brokers)
	w := e.startWorker(t.TempDir())
	body, err := os.ReadFile(exampleText)
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := g.post(t, body, sign(gwSecretA, body)); code != 200 {
		t.Fatalf("POST: %d", code)
	}
	q := "SELECT count() FROM $db.chat_report FINAL WHERE message_id = 'wamid.HBgMNTczMDE1NTUwMTQyFQIAEhgUM0E5OTFCNkY0RDJDNzdBMjE1QwA=' " +
		"AND phone_number_id = '106540352242922' AND direction = 'inbound' AND bsuid = 'CO.18830092211746650031' AND phone = '573015550142'"
	waitFor(t, 60*time.Second, "the webhook's chat_report row", func() bool { return e.count(q) == 1 })
	w.stop(t)
	g.stop(t)
}
