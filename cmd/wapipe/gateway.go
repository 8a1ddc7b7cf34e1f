package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/wapipe/wapipe/gateway"
	"github.com/wapipe/wapipe/internal/kafkalog"
)

// The gateway documents itself here, beside its flags.
func init() {
	commandDocs["gateway"] = "The webhook front door (behind your TLS terminator): answers Meta's verification handshake on\n" +
		"GET /webhook, checks X-Hub-Signature-256 of every POST /webhook against the app secret(s), writes the raw body\n" +
		"to --topic and answers 200 once the broker acknowledged it (401 bad signature, 413 too large, 503 Kafka not\n" +
		"acknowledging within 10 s). /healthz, /readyz and /metrics on the same port. Refuses to start (exit 2)\n" +
		"without an app secret. SIGTERM finishes the requests in flight and exits 0."
}

func gatewayCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	var c common
	c.brokersFlag(fs)
	c.topicFlag(fs)
	listen := fs.String("listen", "127.0.0.1:8080", "HTTP address for /webhook, /metrics, /healthz and /readyz (put TLS in front)")
	secret := fs.String("app-secret", "", "the Meta app secret(s) that sign X-Hub-Signature-256, comma-separated: all are accepted (rotation, several apps)")
	secretFile := fs.String("app-secret-file", "", "file holding the app secret(s) (content trimmed, comma-separated)")
	token := fs.String("verify-token", "", "the token of Meta's verification handshake (GET /webhook); none: every handshake is 403")
	tokenFile := fs.String("verify-token-file", "", "file holding the verify token (content trimmed)")
	maxBody := fs.Int64("max-body-bytes", gateway.DefaultMaxBodyBytes, "larger bodies are refused with 413 (Meta sends at most 3 MB)")
	shutdown := fs.Duration("shutdown-timeout", 20*time.Second, "how long SIGTERM waits for the requests in flight")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return exitError{2, fmt.Errorf("unexpected arguments %q (wapipe help gateway)", fs.Args())}
	}
	secrets, err := readSecret(*secret, *secretFile, "app-secret", true)
	if err != nil {
		return exitError{2, err}
	}
	keys := gateway.ParseSecrets(secrets)
	if keys.Len() == 0 {
		return exitError{2, errors.New("no app secret: give --app-secret, WAPIPE_APP_SECRET or --app-secret-file " +
			"(the secret of the Meta app, which signs every webhook); the gateway refuses to start without one")}
	}
	verifyToken, err := readSecret(*token, *tokenFile, "verify-token", false)
	if err != nil {
		return exitError{2, err}
	}
	if *maxBody <= 0 {
		return exitError{2, fmt.Errorf("--max-body-bytes %d: give a positive size", *maxBody)}
	}
	brokers := split(c.brokers)
	if len(brokers) == 0 {
		return exitError{2, errors.New("--brokers: give at least one address")}
	}
	log := newLogger(c.logLevel)
	link, err := c.kafkaLink(log)
	if err != nil {
		return exitError{2, err}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	w := kafkalog.Writer(gateway.NewWriter(brokers, c.topic, *maxBody, link.Transport), log, "gateway")
	defer w.Close()
	g, err := gateway.New(gateway.Config{Secrets: keys, VerifyToken: verifyToken, MaxBodyBytes: *maxBody,
		Producer: w, Registry: reg, Log: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *listen, err)
	}
	probeCtx, stopProbe := context.WithCancel(context.Background())
	defer stopProbe()
	probe := gateway.KafkaProbe(brokers, c.topic, link.Transport)
	go g.Probe(probeCtx, func(ctx context.Context) error { return link.Diagnose(ctx, brokers, probe(ctx)) }, 5*time.Second)

	srv := &http.Server{Handler: g.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if verifyToken == "" {
		log.Warn("no verify token: Meta's verification handshake will be refused (403)")
	}
	log.Info("gateway listening", "addr", ln.Addr().String(), "brokers", c.brokers, "kafka_security", link.Secured, "topic", c.topic,
		"app_secrets", keys.Len(), "max_body_bytes", *maxBody)

	select {
	case err := <-served:
		return fmt.Errorf("serving %s: %w", *listen, err)
	case <-ctx.Done():
	}
	// SIGTERM: stop accepting, let the requests in flight finish (each waits for its write, at
	// most the write timeout), then flush nothing more: every answered request is settled.
	log.Info("stopping: finishing the requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), *shutdown)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("stopping the HTTP server: %w", err)
	}
	log.Info("stopped")
	return nil
}

// readSecret is a secret from its flag (or environment variable) or its -file flag. A list
// (the app secrets) may come from both, joined by a comma; a single secret from one of them.
// Errors name the flag and the file, never the content.
func readSecret(value, file, name string, list bool) (string, error) {
	value = strings.TrimSpace(value)
	if file == "" {
		return value, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--%s-file: %w", name, err)
	}
	fromFile := strings.TrimSpace(string(b))
	if fromFile == "" {
		return "", fmt.Errorf("--%s-file %s is empty", name, file)
	}
	if value == "" {
		return fromFile, nil
	}
	if !list {
		return "", fmt.Errorf("give --%s (or %s) or --%s-file, not both", name, envName(name), name)
	}
	return value + "," + fromFile, nil
}
