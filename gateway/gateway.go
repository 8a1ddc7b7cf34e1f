package gateway

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/segmentio/kafka-go"
)

// DefaultMaxBodyBytes is Meta's largest webhook body (3 MB).
const DefaultMaxBodyBytes = 3 << 20

// DefaultWriteTimeout is how long a POST waits for the broker's acknowledgement before 503.
const DefaultWriteTimeout = 10 * time.Second

// Producer writes messages and returns once the broker acknowledged them (a synchronous
// kafka-go Writer with RequiredAcks all), or with the reason it could not.
type Producer interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// Config configures a Gateway.
type Config struct {
	Secrets      Secrets // required: at least one app secret
	VerifyToken  string  // the handshake's token; empty: every handshake is 403
	MaxBodyBytes int64   // 0: DefaultMaxBodyBytes
	WriteTimeout time.Duration
	Producer     Producer
	Registry     *prometheus.Registry // metrics are registered and served from it; nil: none
	Log          *slog.Logger
	Now          func() time.Time // nil: time.Now
}

// ErrNoSecret is New's error without an app secret: the gateway would accept nothing.
var ErrNoSecret = errors.New("no app secret: every POST would be refused")

// Gateway is the HTTP handler of the front door. It is safe for concurrent use.
type Gateway struct {
	secrets     Secrets
	verifyToken []byte // SHA-256 of the token; nil when there is none
	maxBody     int64
	timeout     time.Duration
	producer    Producer
	reg         *prometheus.Registry
	log         *slog.Logger
	now         func() time.Time
	m           *metrics
	health      *kafkaHealth
}

// New returns a Gateway, not ready until a write or a probe (Probe) reached Kafka.
func New(cfg Config) (*Gateway, error) {
	if cfg.Secrets.Len() == 0 {
		return nil, ErrNoSecret
	}
	if cfg.Producer == nil {
		return nil, errors.New("gateway: no Kafka producer")
	}
	g := &Gateway{secrets: cfg.Secrets, maxBody: cfg.MaxBodyBytes, timeout: cfg.WriteTimeout,
		producer: cfg.Producer, reg: cfg.Registry, log: cfg.Log, now: cfg.Now}
	if cfg.VerifyToken != "" {
		sum := sha256.Sum256([]byte(cfg.VerifyToken))
		g.verifyToken = sum[:]
	}
	if g.maxBody <= 0 {
		g.maxBody = DefaultMaxBodyBytes
	}
	if g.timeout <= 0 {
		g.timeout = DefaultWriteTimeout
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.now == nil {
		g.now = time.Now
	}
	if cfg.Registry != nil {
		g.m = newMetrics(cfg.Registry)
	} else {
		g.m = newMetrics(nil)
	}
	g.health = &kafkaHealth{down: true, since: g.now(), cause: "not reached yet", log: g.log,
		onChange: func(up bool) {
			if up {
				g.m.kafkaUp.Set(1)
			} else {
				g.m.kafkaUp.Set(0)
			}
		}}
	return g, nil
}

// Handler serves /webhook, /healthz, /readyz and (with a Registry) /metrics.
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/webhook", g.webhook)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", g.health.serveReady)
	if g.reg != nil {
		mux.Handle("/metrics", promhttp.HandlerFor(g.reg, promhttp.HandlerOpts{Registry: g.reg}))
	}
	return mux
}

func (g *Gateway) webhook(w http.ResponseWriter, r *http.Request) {
	var code int
	switch r.Method {
	case http.MethodGet:
		code = g.verify(w, r)
	case http.MethodPost:
		code = g.receive(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		code = http.StatusMethodNotAllowed
	}
	g.m.answered(code)
}

// receive checks the size and the signature, writes the body to Kafka and answers 200 once
// the broker acknowledged it.
func (g *Gateway) receive(w http.ResponseWriter, r *http.Request) int {
	received := g.now()
	if r.ContentLength > g.maxBody {
		return tooLarge(w)
	}
	body, err := readBody(w, r, g.maxBody)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return tooLarge(w)
		}
		http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
		return http.StatusBadRequest
	}
	sig := r.Header.Get(SignatureHeader)
	if !g.secrets.Valid(sig, body) {
		http.Error(w, "missing, malformed or wrong "+SignatureHeader, http.StatusUnauthorized)
		return http.StatusUnauthorized
	}
	msg := kafka.Message{Key: Key(body), Value: body, Headers: []kafka.Header{
		{Key: "x-hub-signature-256", Value: []byte(sig)},
		{Key: "x-received-at", Value: []byte(received.UTC().Format("2006-01-02T15:04:05.000Z07:00"))},
	}}
	// The write is not tied to the client's connection: a write once begun either lands or
	// times out, and the answer says which as far as the gateway can know.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), g.timeout)
	defer cancel()
	start := time.Now()
	err = g.producer.WriteMessages(ctx, msg)
	g.m.writes.Observe(time.Since(start).Seconds())
	if err != nil {
		g.m.writeErrors.Inc()
		g.health.writeFailed(writeCause(err, ctx), g.now())
		w.Header().Set("Retry-After", "10")
		http.Error(w, "Kafka did not acknowledge the write; retry later", http.StatusServiceUnavailable)
		return http.StatusServiceUnavailable
	}
	g.health.written(g.now())
	g.m.bytes.Add(float64(len(body)))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
	return http.StatusOK
}

func writeCause(err error, ctx context.Context) string {
	if ctx.Err() != nil {
		return "write not acknowledged within the timeout: " + err.Error()
	}
	return err.Error()
}

func tooLarge(w http.ResponseWriter) int {
	http.Error(w, "body over the limit", http.StatusRequestEntityTooLarge)
	return http.StatusRequestEntityTooLarge
}

// readBody reads the whole body, at most max bytes (an *http.MaxBytesError beyond, and the
// server closes the connection rather than read the rest).
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	rd := http.MaxBytesReader(w, r.Body, max)
	if r.ContentLength >= 0 {
		// Known length: one allocation of exactly that size, then a check that nothing follows.
		body := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(rd, body); err != nil {
			return nil, err
		}
		var one [1]byte
		if n, err := rd.Read(one[:]); n > 0 {
			return nil, errors.New("body longer than its Content-Length")
		} else if err != nil && err != io.EOF {
			return nil, err
		}
		return body, nil
	}
	return io.ReadAll(rd)
}
