package e2e

// Contract section 7: the worker, produce and migrate/lookup over secured connections, and
// what each says when a password is wrong.

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/wapipe/wapipe/internal/connect"
	"github.com/wapipe/wapipe/internal/testcerts"
)

const (
	kafkaUser     = "wapipe"
	kafkaPassword = "kafka-Pa55-for-tests"
	// The user with a password of scripts/clickhouse.sh.
	chUser     = "wapipe_password_user"
	chPassword = "wapipe-test-password"
)

// secretFile writes a secret to a file of the test's, as a deployment mounts one.
func secretFile(t *testing.T, secret string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// produceOver sends msgs through the security settings k, as a secured producer does.
func (e *env) produceOver(k connect.Kafka, msgs []kafka.Message) {
	e.t.Helper()
	l, err := k.Link(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	w := &kafka.Writer{Addr: kafka.TCP(e.brokers), Topic: topic, Balancer: &kafka.Hash{}, Transport: l.Transport,
		BatchTimeout: 5 * time.Millisecond, BatchSize: 500, BatchBytes: 1 << 20, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		e.t.Fatal(err)
	}
}

// A worker consumes from, and writes its identity topic and dead letters to, brokers that
// require each SASL mechanism, the last one over TLS with a client certificate; the reports
// are complete and the worker drains on SIGTERM.
func TestWorkerOverSASLAndTLS(t *testing.T) {
	certs := testcerts.New(t, "kafka")
	cases := []struct {
		mech, kfakeName string
		tls             bool
	}{
		{connect.SASLPlain, "PLAIN", false},
		{connect.SASLSHA256, "SCRAM-SHA-256", false},
		{connect.SASLSHA512, "SCRAM-SHA-512", true},
	}
	for i, c := range cases {
		t.Run(c.mech, func(t *testing.T) {
			opts := []kfake.Opt{kfake.EnableSASL(), kfake.Superuser(c.kfakeName, kafkaUser, kafkaPassword)}
			sec := connect.Kafka{SASL: c.mech, Username: kafkaUser, Password: kafkaPassword}
			flags := []string{"--kafka-sasl", c.mech, "--kafka-username", kafkaUser, "--kafka-password-file", secretFile(t, kafkaPassword)}
			if c.tls {
				opts = append(opts, kfake.TLS(certs.ServerTLS(t, true)))
				sec.CAFile, sec.CertFile, sec.KeyFile = certs.CAFile, certs.ClientCert, certs.ClientKey
				flags = append(flags, "--kafka-tls", "--kafka-tls-ca", certs.CAFile,
					"--kafka-tls-cert", certs.ClientCert, "--kafka-tls-key", certs.ClientKey)
			}
			e := newEnvWith(t, 2, opts...)
			msgs, exp := generate(300, int64(40+i), 0.05)
			e.produceOver(sec, msgs)
			w := e.startWorker(t.TempDir(), flags...)
			e.expectReports(exp, 90*time.Second)
			waitFor(t, 30*time.Second, "/readyz 200", func() bool { return w.ready() == 200 })
			w.stop(t)
		})
	}
}

// A wrong Kafka password is reported as an authentication failure: the worker keeps retrying,
// logs the cause and answers /readyz 503 naming it; produce fails saying so. The password is
// in no log line, no error, no help output and not in /metrics.
func TestWrongKafkaPasswordIsReportedAsSuch(t *testing.T) {
	e := newEnvWith(t, 2, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", kafkaUser, kafkaPassword))
	const wrong = "wrong-Pa55-never-printed"
	t.Setenv("WAPIPE_KAFKA_PASSWORD", wrong) // from the environment, as a deployment may set it
	w := e.startWorker(t.TempDir(), "--kafka-sasl", "scram-sha-256", "--kafka-username", kafkaUser, "--log-level", "info")
	var body string
	waitFor(t, 60*time.Second, "/readyz naming the refused login", func() bool {
		body, _ = httpGet("http://" + w.http + "/readyz")
		return strings.Contains(body, connect.KindAuth)
	})
	if code := w.ready(); code != 503 {
		t.Errorf("/readyz %d with a refused login, want 503: %s", code, body)
	}
	time.Sleep(3 * time.Second) // retrying, not exiting
	if !w.alive() {
		t.Fatal("the worker exited on a refused login; it must keep retrying")
	}
	metrics, _ := httpGet("http://" + w.http + "/metrics")
	logs, _ := os.ReadFile(w.logs)
	if !strings.Contains(string(logs), connect.KindAuth) {
		t.Errorf("the worker's log does not say %q:\n%s", connect.KindAuth, tail(string(logs), 3000))
	}

	produce := exec.Command(binary, "produce", "--brokers", e.brokers, "--kafka-sasl", "scram-sha-256",
		"--kafka-username", kafkaUser, bodyFile(t))
	out, err := produce.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || !strings.Contains(string(out), connect.KindAuth) {
		t.Errorf("produce with a wrong password: %v, %s; want a failure saying %q", err, out, connect.KindAuth)
	}
	help, _ := exec.Command(binary, "help", "run").CombinedOutput()
	for what, text := range map[string]string{"log": string(logs), "/readyz": body, "/metrics": metrics,
		"produce's error": string(out), "help": string(help)} {
		if strings.Contains(text, wrong) {
			t.Errorf("the password appears in %s", what)
		}
	}
}

// bodyFile is a .json file holding one webhook body.
func bodyFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "webhook.json")
	if err := os.WriteFile(path, []byte(`{"object":"whatsapp_business_account","entry":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// chPasswordUserExists says whether the test server knows scripts/clickhouse.sh's user with a
// password (a server started before the script had it does not: restart it).
func chPasswordUserExists(t *testing.T, addr string) bool {
	conn, err := ch.Open(&ch.Options{Addr: []string{addr}, Auth: ch.Auth{Username: chUser, Password: chPassword}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = conn.Ping(context.Background())
	var exc *ch.Exception
	if errors.As(err, &exc) && exc.Code == 192 { // UNKNOWN_USER
		return false
	}
	if err != nil {
		t.Fatalf("ClickHouse as %s: %v", chUser, err)
	}
	return true
}

// ClickHouse with a password user: migrate, the worker and lookup log in with it (from the
// environment, a file, a flag); a wrong password makes migrate and lookup exit 2 naming the
// refused login, and the worker answer /readyz 503 naming it while it retries.
func TestClickHousePasswordUser(t *testing.T) {
	e := newEnv(t, 2)
	if !chPasswordUserExists(t, e.chAddr) {
		t.Skipf("ClickHouse at %s has no user %s: restart it with scripts/clickhouse.sh (stop, start)", e.chAddr, chUser)
	}
	const wrong = "wrong-ch-Pa55-never-printed"
	as := []string{"--clickhouse", e.chAddr, "--database", e.database, "--clickhouse-username", chUser}

	migrate := exec.Command(binary, append([]string{"migrate"}, as...)...)
	migrate.Env = append(os.Environ(), "WAPIPE_CLICKHOUSE_PASSWORD="+chPassword)
	if out, err := migrate.CombinedOutput(); err != nil {
		t.Fatalf("migrate with the password from WAPIPE_CLICKHOUSE_PASSWORD: %v\n%s", err, out)
	}
	for _, cmd := range [][]string{
		append(append([]string{"migrate"}, as...), "--clickhouse-password", wrong),
		append(append([]string{"lookup"}, as...), "--clickhouse-password", wrong, "--phone", "573015550142"),
	} {
		out, err := exec.Command(binary, cmd...).CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), connect.KindAuth) {
			t.Errorf("%s with a wrong password: %v, %s; want exit 2 saying %q", cmd[0], err, out, connect.KindAuth)
		}
		if strings.Contains(string(out), wrong) {
			t.Errorf("%s prints the password: %s", cmd[0], out)
		}
	}

	msgs, exp := generate(200, 47, 0)
	e.produce(msgs)
	w := e.startWorker(t.TempDir(), "--clickhouse-username", chUser, "--clickhouse-password-file", secretFile(t, chPassword))
	e.expectReports(exp, 90*time.Second)
	w.stop(t)

	bad := e.startWorker(t.TempDir(), "--clickhouse-username", chUser, "--clickhouse-password", wrong)
	var body string
	waitFor(t, 60*time.Second, "/readyz naming the refused ClickHouse login", func() bool {
		body, _ = httpGet("http://" + bad.http + "/readyz")
		return strings.Contains(body, connect.KindAuth) && strings.Contains(body, "clickhouse")
	})
	if code := bad.ready(); code != 503 || !bad.alive() {
		t.Errorf("/readyz %d, alive %v with a refused ClickHouse login; want 503 and retrying", code, bad.alive())
	}
	if strings.Contains(body, wrong) {
		t.Errorf("/readyz shows the password: %s", body)
	}
}

// tlsProxy terminates TLS with the test CA's server certificate and forwards each connection
// to the test ClickHouse: a ClickHouse behind TLS, as a server with tcp_port_secure is.
func tlsProxy(t *testing.T, certs *testcerts.Set, backend string) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", certs.ServerTLS(t, false))
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
			go func() {
				defer c.Close()
				b, err := net.Dial("tcp", backend)
				if err != nil {
					return
				}
				defer b.Close()
				go func() { _, _ = io.Copy(b, c) }()
				_, _ = io.Copy(c, b)
			}()
		}
	}()
	return ln.Addr().String()
}

// --clickhouse-tls reaches ClickHouse over TLS with the CA bundle (or without verification,
// warned); a server whose CA is not trusted, or a plaintext one, is a TLS failure (exit 2).
func TestClickHouseTLS(t *testing.T) {
	e := newEnv(t, 1)
	certs := testcerts.New(t, "clickhouse")
	secure := tlsProxy(t, certs, e.chAddr)
	migrate := func(addr string, flags ...string) (string, int) {
		out, err := exec.Command(binary, append([]string{"migrate", "--clickhouse", addr, "--database", e.database}, flags...)...).CombinedOutput()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return string(out), exit.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	if out, code := migrate(secure, "--clickhouse-tls-ca", certs.CAFile); code != 0 {
		t.Fatalf("migrate over TLS with the CA: exit %d\n%s", code, out)
	}
	if out, code := migrate(secure, "--clickhouse-tls-insecure"); code != 0 || !strings.Contains(out, "not verified") {
		t.Errorf("migrate over TLS without verification: exit %d, want 0 and a warning\n%s", code, out)
	}
	for name, flags := range map[string][]string{
		"an untrusted CA":    {"--clickhouse-tls"},
		"a plaintext server": {"--clickhouse-tls-ca", certs.CAFile, "--clickhouse", e.chAddr},
	} {
		if out, code := migrate(secure, flags...); code != 2 || !strings.Contains(out, connect.KindTLS) {
			t.Errorf("%s: exit %d, want 2 saying %q\n%s", name, code, connect.KindTLS, out)
		}
	}
}

// The gateway writes to a broker that requires SCRAM-SHA-512 over TLS; with a wrong password
// its /readyz answers 503 saying "authentication failed" and a POST is 503 (Meta retries).
func TestGatewayOverSASLAndTLS(t *testing.T) {
	certs := testcerts.New(t, "kafka")
	e := newEnvWith(t, 1, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", kafkaUser, kafkaPassword),
		kfake.TLS(certs.ServerTLS(t, false)))
	flags := []string{"--kafka-tls-ca", certs.CAFile, "--kafka-sasl", "scram-sha-512", "--kafka-username", kafkaUser}
	body, err := os.ReadFile(exampleText)
	if err != nil {
		t.Skip(err)
	}
	g := startGateway(t, e.brokers, append(flags, "--kafka-password-file", secretFile(t, kafkaPassword))...)
	waitFor(t, 20*time.Second, "/readyz 200", func() bool { return g.ready() == 200 })
	if code, _ := g.post(t, body, sign(gwSecretA, body)); code != 200 {
		t.Fatalf("POST: %d, want 200", code)
	}
	link, err := connect.Kafka{CAFile: certs.CAFile, SASL: connect.SASLSHA512, Username: kafkaUser, Password: kafkaPassword}.Link(nil)
	if err != nil {
		t.Fatal(err)
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{e.brokers}, Topic: topic, Partition: 0, Dialer: link.Dialer, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if m, err := r.ReadMessage(ctx); err != nil || string(m.Value) != string(body) {
		t.Fatalf("reading the body back over SASL_SSL: %v", err)
	}
	g.stop(t)

	bad := startGateway(t, e.brokers, append(flags, "--kafka-password", "wrong-gw-Pa55")...)
	var readyz string
	waitFor(t, 30*time.Second, "/readyz naming the refused login", func() bool {
		readyz, _ = httpGet("http://" + bad.http + "/readyz")
		return strings.Contains(readyz, connect.KindAuth)
	})
	if code, _ := bad.post(t, body, sign(gwSecretA, body)); code != 503 {
		t.Errorf("POST with a refused login: %d, want 503", code)
	}
}

// A worker started with --api-token answers /v1/ only with the bearer token, and
// `wapipe lookup --worker` sends the token it is given (WAPIPE_API_TOKEN).
func TestLookupSendsTheAPIToken(t *testing.T) {
	e := newEnv(t, 1)
	msgs, exp := generate(200, 49, 0)
	e.produce(msgs)
	const token = "api-t0ken-for-tests"
	w := e.startWorker(t.TempDir(), "--api-token-file", secretFile(t, token))
	e.expectReports(exp, 90*time.Second)
	var bsuid string
	if err := e.conn.QueryRow(context.Background(), "SELECT bsuid FROM "+e.database+
		".identities FINAL WHERE bsuid != '' LIMIT 1").Scan(&bsuid); err != nil {
		t.Fatal(err)
	}
	if code := w.get("/v1/contacts?bsuid=" + bsuid); code != 401 {
		t.Errorf("/v1/contacts without the token: %d, want 401", code)
	}
	lookup := exec.Command(binary, "lookup", "--worker", w.http, "--bsuid", bsuid)
	out, err := lookup.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "401") {
		t.Errorf("lookup --worker without the token: %v %s; want exit 2 naming the 401", err, out)
	}
	lookup = exec.Command(binary, "lookup", "--worker", w.http, "--bsuid", bsuid)
	lookup.Env = append(os.Environ(), "WAPIPE_API_TOKEN="+token)
	if out, err := lookup.CombinedOutput(); err != nil || !strings.Contains(string(out), bsuid) {
		t.Errorf("lookup --worker with WAPIPE_API_TOKEN: %v\n%s", err, out)
	}
	w.stop(t)
}
