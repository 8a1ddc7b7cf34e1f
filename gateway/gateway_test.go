package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/segmentio/kafka-go"
)

// fakeProducer records what it is asked to write, or fails with err.
type fakeProducer struct {
	mu   sync.Mutex
	err  error
	msgs []kafka.Message
}

func (p *fakeProducer) WriteMessages(ctx context.Context, msgs ...kafka.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.msgs = append(p.msgs, msgs...)
	return nil
}

func (p *fakeProducer) written() []kafka.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]kafka.Message(nil), p.msgs...)
}

const body = `{"object":"whatsapp_business_account","entry":[{"id":"WABA1","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"PNID1"}},"field":"messages"}]}]}`

func newTestGateway(t *testing.T, p Producer, secrets ...string) (*Gateway, http.Handler, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	g, err := New(Config{Secrets: ParseSecrets(secrets...), VerifyToken: "the-token", MaxBodyBytes: 1 << 10,
		Producer: p, Registry: reg, Now: func() time.Time { return time.Date(2026, 12, 7, 12, 0, 0, 0, time.FixedZone("x", 3600)) }})
	if err != nil {
		t.Fatal(err)
	}
	return g, g.Handler(), reg
}

func do(h http.Handler, method, target string, body []byte, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, bytes.NewReader(body))
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHandshake(t *testing.T) {
	_, h, _ := newTestGateway(t, &fakeProducer{}, "s1")
	w := do(h, "GET", "/webhook?hub.mode=subscribe&hub.verify_token=the-token&hub.challenge=1158201444", nil, nil)
	if w.Code != 200 || w.Body.String() != "1158201444" || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Errorf("good handshake: %d %q %q", w.Code, w.Body.String(), w.Header().Get("Content-Type"))
	}
	for _, q := range []string{
		"hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
		"hub.mode=subscribe&hub.verify_token=the-toke&hub.challenge=1",
		"hub.mode=unsubscribe&hub.verify_token=the-token&hub.challenge=1",
		"hub.verify_token=the-token&hub.challenge=1",
		"",
	} {
		if w := do(h, "GET", "/webhook?"+q, nil, nil); w.Code != 403 || strings.Contains(w.Body.String(), "the-token") {
			t.Errorf("handshake %q: %d %q, want 403 without the token", q, w.Code, w.Body.String())
		}
	}
	// Without a configured token no handshake passes, not even an empty token.
	g, err := New(Config{Secrets: ParseSecrets("s1"), Producer: &fakeProducer{}})
	if err != nil {
		t.Fatal(err)
	}
	if w := do(g.Handler(), "GET", "/webhook?hub.mode=subscribe&hub.verify_token=&hub.challenge=1", nil, nil); w.Code != 403 {
		t.Errorf("no token configured: %d, want 403", w.Code)
	}
}

func TestSignedBodyIsForwardedByteForByte(t *testing.T) {
	p := &fakeProducer{}
	_, h, _ := newTestGateway(t, p, "s1")
	sig := Sign("s1", []byte(body))
	w := do(h, "POST", "/webhook", []byte(body), map[string]string{SignatureHeader: sig})
	if w.Code != 200 {
		t.Fatalf("signed POST: %d %s", w.Code, w.Body)
	}
	msgs := p.written()
	if len(msgs) != 1 {
		t.Fatalf("%d messages written, want 1", len(msgs))
	}
	m := msgs[0]
	if string(m.Value) != body || string(m.Key) != "PNID1" {
		t.Errorf("value %q key %q", m.Value, m.Key)
	}
	headers := map[string]string{}
	for _, hd := range m.Headers {
		headers[hd.Key] = string(hd.Value)
	}
	if headers["x-hub-signature-256"] != sig || headers["x-received-at"] != "2026-12-07T11:00:00.000Z" || len(headers) != 2 {
		t.Errorf("headers %v", headers)
	}
}

func TestBadSignaturesAre401AndWriteNothing(t *testing.T) {
	p := &fakeProducer{}
	_, h, _ := newTestGateway(t, p, "s1")
	good := Sign("s1", []byte(body))
	for name, sig := range map[string]string{
		"missing":       "",
		"other secret":  Sign("s2", []byte(body)),
		"other body":    Sign("s1", []byte(body+" ")),
		"no prefix":     strings.TrimPrefix(good, "sha256="),
		"sha1 prefix":   "sha1=" + strings.TrimPrefix(good, "sha256="),
		"short":         good[:len(good)-2],
		"long":          good + "00",
		"not hex":       good[:len(good)-1] + "g",
		"upper prefix":  "SHA256=" + strings.TrimPrefix(good, "sha256="),
		"trailing text": good + " ",
	} {
		w := do(h, "POST", "/webhook", []byte(body), map[string]string{SignatureHeader: sig})
		if w.Code != 401 {
			t.Errorf("%s: %d, want 401", name, w.Code)
		}
	}
	if n := len(p.written()); n != 0 {
		t.Errorf("%d messages written for bad signatures", n)
	}
	// Hex digits are accepted in either case (the MAC's bytes are what is compared).
	if w := do(h, "POST", "/webhook", []byte(body), map[string]string{SignatureHeader: "sha256=" + strings.ToUpper(good[7:])}); w.Code != 200 {
		t.Errorf("upper-case hex: %d", w.Code)
	}
}

func TestRotationAcceptsEverySecret(t *testing.T) {
	p := &fakeProducer{}
	_, h, _ := newTestGateway(t, p, "old-secret, new-secret", "third")
	for _, s := range []string{"old-secret", "new-secret", "third"} {
		if w := do(h, "POST", "/webhook", []byte(body), map[string]string{SignatureHeader: Sign(s, []byte(body))}); w.Code != 200 {
			t.Errorf("signed with %s: %d", s, w.Code)
		}
	}
	if w := do(h, "POST", "/webhook", []byte(body), map[string]string{SignatureHeader: Sign("old-secret,new-secret", []byte(body))}); w.Code != 401 {
		t.Errorf("the list itself is no secret: %d", w.Code)
	}
}

func TestOversizeIs413(t *testing.T) {
	p := &fakeProducer{}
	_, h, _ := newTestGateway(t, p, "s1")
	big := bytes.Repeat([]byte("x"), 1<<10+1)
	if w := do(h, "POST", "/webhook", big, map[string]string{SignatureHeader: Sign("s1", big)}); w.Code != 413 {
		t.Errorf("over the limit with Content-Length: %d", w.Code)
	}
	// Chunked (no Content-Length): caught while reading.
	r := httptest.NewRequest("POST", "/webhook", io.MultiReader(bytes.NewReader(big)))
	r.ContentLength = -1
	r.Header.Set(SignatureHeader, Sign("s1", big))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 413 {
		t.Errorf("over the limit, chunked: %d", w.Code)
	}
	exact := big[:1<<10]
	if w := do(h, "POST", "/webhook", exact, map[string]string{SignatureHeader: Sign("s1", exact)}); w.Code != 200 {
		t.Errorf("exactly the limit: %d", w.Code)
	}
	if n := len(p.written()); n != 1 {
		t.Errorf("%d messages written, want only the one at the limit", n)
	}
}

func TestNonJSONSignedBodyIsForwardedUnkeyed(t *testing.T) {
	p := &fakeProducer{}
	_, h, _ := newTestGateway(t, p, "s1")
	b := []byte("not json at all \x00\xff")
	if w := do(h, "POST", "/webhook", b, map[string]string{SignatureHeader: Sign("s1", b)}); w.Code != 200 {
		t.Fatalf("signed non-JSON: %d", w.Code)
	}
	m := p.written()[0]
	if !bytes.Equal(m.Value, b) || m.Key != nil {
		t.Errorf("value %q key %q", m.Value, m.Key)
	}
}

func TestOtherMethodsAre405(t *testing.T) {
	_, h, _ := newTestGateway(t, &fakeProducer{}, "s1")
	for _, m := range []string{"PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"} {
		if w := do(h, m, "/webhook", nil, nil); w.Code != 405 || w.Header().Get("Allow") != "GET, POST" {
			t.Errorf("%s: %d allow %q", m, w.Code, w.Header().Get("Allow"))
		}
	}
}

func TestKafkaFailureIs503AndUnready(t *testing.T) {
	p := &fakeProducer{err: errors.New("broker not available")}
	g, h, reg := newTestGateway(t, p, "s1")
	sig := map[string]string{SignatureHeader: Sign("s1", []byte(body))}
	if w := do(h, "GET", "/readyz", nil, nil); w.Code != 503 {
		t.Errorf("/readyz before Kafka was reached: %d", w.Code)
	}
	g.health.probed(nil, time.Second, g.now())
	if w := do(h, "GET", "/readyz", nil, nil); w.Code != 200 {
		t.Errorf("/readyz after a good probe: %d %s", w.Code, w.Body)
	}
	if w := do(h, "POST", "/webhook", []byte(body), sig); w.Code != 503 {
		t.Errorf("write failing: %d", w.Code)
	}
	w := do(h, "GET", "/readyz", nil, nil)
	var rb readyBody
	if err := json.Unmarshal(w.Body.Bytes(), &rb); err != nil || w.Code != 503 || rb.Ready || len(rb.Down) != 1 ||
		rb.Down[0].Dependency != "kafka" || !strings.Contains(rb.Down[0].Cause, "broker not available") {
		t.Errorf("/readyz while writes fail: %d %s", w.Code, w.Body)
	}
	// A good probe right after a failed write does not hide the failure.
	g.health.probed(nil, time.Minute, g.now())
	if w := do(h, "GET", "/readyz", nil, nil); w.Code != 503 {
		t.Errorf("/readyz after a probe just after a failed write: %d", w.Code)
	}
	p.mu.Lock()
	p.err = nil
	p.mu.Unlock()
	if w := do(h, "POST", "/webhook", []byte(body), sig); w.Code != 200 {
		t.Errorf("write recovered: %d", w.Code)
	}
	if w := do(h, "GET", "/readyz", nil, nil); w.Code != 200 {
		t.Errorf("/readyz after a good write: %d", w.Code)
	}
	metrics := gather(t, reg)
	for _, want := range []string{`wapipe_gateway_requests_total{code="503"} 1`, `wapipe_gateway_requests_total{code="200"} 1`,
		"wapipe_gateway_kafka_write_errors_total 1", "wapipe_gateway_kafka_write_seconds_count 2", "wapipe_gateway_kafka_up 1"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q:\n%s", want, metrics)
		}
	}
}

// A slow write times out with 503 within the write timeout.
func TestSlowWriteTimesOut(t *testing.T) {
	g, err := New(Config{Secrets: ParseSecrets("s1"), Producer: blockingProducer{}, WriteTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	w := do(g.Handler(), "POST", "/webhook", []byte(body), map[string]string{SignatureHeader: Sign("s1", []byte(body))})
	if w.Code != 503 || time.Since(start) > 2*time.Second {
		t.Errorf("blocked write: %d after %v", w.Code, time.Since(start))
	}
}

type blockingProducer struct{}

func (blockingProducer) WriteMessages(ctx context.Context, _ ...kafka.Message) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestNoSecretRefused(t *testing.T) {
	if _, err := New(Config{Secrets: ParseSecrets(" , ,"), Producer: &fakeProducer{}}); !errors.Is(err, ErrNoSecret) {
		t.Errorf("no secret: %v", err)
	}
}

// No secret or verify token shows in metrics, answers or the printed Secrets.
func TestSecretsNeverShow(t *testing.T) {
	p := &fakeProducer{err: errors.New("down")}
	_, h, reg := newTestGateway(t, p, "very-secret-1,very-secret-2")
	var out strings.Builder
	for _, r := range []struct{ m, t string }{{"GET", "/webhook?hub.mode=subscribe&hub.verify_token=x"}, {"POST", "/webhook"},
		{"GET", "/readyz"}, {"GET", "/healthz"}, {"GET", "/metrics"}} {
		out.WriteString(do(h, r.m, r.t, []byte(body), map[string]string{SignatureHeader: Sign("very-secret-1", []byte(body))}).Body.String())
	}
	out.WriteString(gather(t, reg))
	out.WriteString(ParseSecrets("very-secret-1").String())
	for _, s := range []string{"very-secret", "the-token"} {
		if strings.Contains(out.String(), s) {
			t.Errorf("%q shows:\n%s", s, out.String())
		}
	}
}

func TestKey(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{body, "PNID1"},
		{`{"entry":[{"id":"W","changes":[{"value":{"metadata":{"phone_number_id":"A"}}},{"value":{"metadata":{"phone_number_id":"B"}}}]},{"changes":[{"value":{"metadata":{"phone_number_id":"C"}}}]}]}`, "A"},
		// The first change is in the second entry when the first has none.
		{`{"entry":[{"id":"W","changes":[]},{"changes":[{"value":{"metadata":{"phone_number_id":"C"}}}]}]}`, "C"},
		// Text that quotes the field name does not fool it; the metadata after it is what counts.
		{`{"entry":[{"changes":[{"value":{"messages":[{"text":{"body":"\"phone_number_id\":\"X\""}}],"metadata":{"phone_number_id":"REAL"}}}]}]}`, "REAL"},
		{`{"entry":[{"changes":[{"value":{"statuses":[]}}]}]}`, ""},
		{`{"entry":[]}`, ""},
		{`{"object":"whatsapp_business_account"}`, ""},
		{`not json`, ""},
		{``, ""},
		{`{"entry":[{"changes":[{"value":{"metadata":{"phone_number_id":"A"`, ""}, // truncated: not JSON
	} {
		got := Key([]byte(c.body))
		if string(got) != c.want || (c.want == "" && got != nil) {
			t.Errorf("Key(%s) = %q, want %q", c.body, got, c.want)
		}
	}
}

func gather(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
