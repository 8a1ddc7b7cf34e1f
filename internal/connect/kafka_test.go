package connect

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/wapipe/wapipe/internal/testcerts"
)

const (
	testUser     = "wapipe"
	testPassword = "s3cret-Pa55"
)

// broker starts a one-broker kfake cluster with topic "t", with opts (SASL, TLS).
func broker(t *testing.T, opts ...kfake.Opt) string {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(1, "t")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

// roundTrip writes one message through the link's transport and reads it back through its
// dialer, as the worker's writers and readers do; it returns the first error.
func roundTrip(t *testing.T, addr string, l *KafkaLink) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: "t", Transport: l.Transport, RequiredAcks: kafka.RequireAll, MaxAttempts: 1}
	defer w.Close()
	body := []byte("hello " + t.Name())
	if err := w.WriteMessages(ctx, kafka.Message{Value: body}); err != nil {
		return err
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, Topic: "t", Dialer: l.Dialer, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	m, err := r.ReadMessage(ctx)
	if err != nil {
		return err
	}
	if !bytes.Equal(m.Value, body) {
		t.Fatalf("read %q, wrote %q", m.Value, body)
	}
	return nil
}

// dial makes one connection through the link's dialer: what a consumer group does first.
func dial(addr string, l *KafkaLink) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := l.Dialer.DialContext(ctx, "tcp", addr)
	if err == nil {
		_, err = conn.ReadPartitions("t")
		conn.Close()
	}
	return err
}

func link(t *testing.T, k Kafka) *KafkaLink {
	t.Helper()
	l, err := k.Link(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Each SASL mechanism logs in and carries messages both ways; a wrong password is reported as
// an authentication failure (not as "broker not available"), without the password.
func TestKafkaSASLMechanisms(t *testing.T) {
	for mech, kfakeName := range map[string]string{SASLPlain: "PLAIN", SASLSHA256: "SCRAM-SHA-256", SASLSHA512: "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			addr := broker(t, kfake.EnableSASL(), kfake.Superuser(kfakeName, testUser, testPassword))
			if err := roundTrip(t, addr, link(t, Kafka{SASL: mech, Username: testUser, Password: testPassword})); err != nil {
				t.Fatalf("with the right password: %v", err)
			}
			err := Explain("kafka", dial(addr, link(t, Kafka{SASL: mech, Username: testUser, Password: "wrong-" + testPassword})))
			if KindOf(err) != KindAuth {
				t.Fatalf("wrong password: want %q, got %v", KindAuth, err)
			}
			if strings.Contains(err.Error(), testPassword) {
				t.Fatalf("the error shows the password: %v", err)
			}
			t.Logf("wrong password: %v", err)
		})
	}
}

// A TLS broker is reached with the CA bundle, with a client certificate when it requires one,
// and with SASL on top; a broker whose CA is not trusted is reported as a TLS failure.
func TestKafkaTLS(t *testing.T) {
	certs := testcerts.New(t, "kafka")
	addr := broker(t, kfake.TLS(certs.ServerTLS(t, false)))
	if err := roundTrip(t, addr, link(t, Kafka{TLS: true, CAFile: certs.CAFile})); err != nil {
		t.Fatalf("TLS with the CA: %v", err)
	}
	err := Explain("kafka", dial(addr, link(t, Kafka{TLS: true}))) // the system pool does not know the test CA
	if KindOf(err) != KindTLS {
		t.Fatalf("untrusted CA: want %q, got %v", KindTLS, err)
	}
	t.Logf("untrusted CA: %v", err)
	if err := dial(addr, link(t, Kafka{CAFile: certs.CAFile, ServerName: "localhost"})); err != nil {
		t.Errorf("--kafka-tls-server-name localhost (in the certificate): %v", err)
	}
	if err := Explain("kafka", dial(addr, link(t, Kafka{CAFile: certs.CAFile, ServerName: "kafka.example"}))); KindOf(err) != KindTLS {
		t.Errorf("a server name the certificate does not hold: want %q, got %v", KindTLS, err)
	}
	var warned strings.Builder
	insecure, err := Kafka{Insecure: true}.Link(slog.New(slog.NewTextHandler(&warned, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := roundTrip(t, addr, insecure); err != nil || !strings.Contains(warned.String(), "level=WARN") {
		t.Errorf("--kafka-tls-insecure: %v, warning %q", err, warned.String())
	}

	mtls := broker(t, kfake.TLS(certs.ServerTLS(t, true)), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", testUser, testPassword))
	withCert := Kafka{CAFile: certs.CAFile, CertFile: certs.ClientCert, KeyFile: certs.ClientKey,
		SASL: SASLSHA512, Username: testUser, Password: testPassword}
	if err := roundTrip(t, mtls, link(t, withCert)); err != nil {
		t.Fatalf("client certificate and SCRAM-SHA-512: %v", err)
	}
	noCert := withCert
	noCert.CertFile, noCert.KeyFile = "", ""
	if err := Explain("kafka", dial(mtls, link(t, noCert))); KindOf(err) != KindTLS {
		t.Fatalf("no client certificate: want %q, got %v", KindTLS, err)
	}
}

// A writer (kafka-go's transport) with a wrong password sees only "unexpected EOF"; Diagnose
// finds the refused login behind it.
func TestDiagnoseFindsTheRefusedLoginBehindAHangUp(t *testing.T) {
	addr := broker(t, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", testUser, testPassword))
	l := link(t, Kafka{SASL: SASLSHA512, Username: testUser, Password: "wrong"})
	client := &kafka.Client{Addr: kafka.TCP(addr), Transport: l.Transport, Timeout: 5 * time.Second}
	_, err := client.Metadata(context.Background(), &kafka.MetadataRequest{Topics: []string{"t"}})
	if err == nil {
		t.Fatal("a wrong password was accepted")
	}
	if got := l.Diagnose(context.Background(), []string{addr}, err); KindOf(got) != KindAuth {
		t.Fatalf("transport error %v: diagnosed as %v, want %q", err, got, KindAuth)
	}
}

// kafka.Client's CreateTopics with a wrong password says "Broker Not Available"; Diagnose
// finds the refused login behind it.
func TestDiagnoseFindsTheRefusedLoginBehindBrokerNotAvailable(t *testing.T) {
	addr := broker(t, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", testUser, testPassword))
	l := link(t, Kafka{SASL: SASLSHA256, Username: testUser, Password: "wrong"})
	client := &kafka.Client{Addr: kafka.TCP(addr), Transport: l.Transport, Timeout: 5 * time.Second}
	_, err := client.CreateTopics(context.Background(), &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{Topic: "new", NumPartitions: 1, ReplicationFactor: -1}}})
	if err == nil {
		t.Fatal("a wrong password was accepted")
	}
	if got := l.Diagnose(context.Background(), []string{addr}, err); KindOf(got) != KindAuth {
		t.Fatalf("transport error %v: diagnosed as %v, want %q", err, got, KindAuth)
	}
}
