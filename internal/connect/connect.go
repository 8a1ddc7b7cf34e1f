// Package connect builds wapipe's connections to Kafka and ClickHouse from the security flags of
// contract section 7: TLS (a CA bundle or the system pool, a client certificate, a server name,
// or no verification at all, which is logged as a warning), SASL PLAIN, SCRAM-SHA-256 and
// SCRAM-SHA-512 for Kafka, a user, password and TLS for ClickHouse.
//
// It promises:
//   - every command registers the same flags (Kafka.Register, ClickHouse.Register), so a
//     deployment configures them once (flags, WAPIPE_* variables or the config file);
//   - a secret (a password) comes from its flag, its environment variable or its -file flag,
//     and never appears in a flag's help, an error or a log line this package writes;
//   - Explain turns a refused login, a failed SASL handshake or a TLS failure into an error
//     that says so, instead of the "broker not available" or "EOF" the clients report.
package connect

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// SASL mechanisms as --kafka-sasl names them.
const (
	SASLPlain  = "plain"
	SASLSHA256 = "scram-sha-256"
	SASLSHA512 = "scram-sha-512"
)

// Kafka holds the Kafka security flags.
type Kafka struct {
	TLS        bool
	CAFile     string // PEM bundle; empty: the system pool
	CertFile   string // client certificate (PEM), with KeyFile
	KeyFile    string
	ServerName string // expected in the brokers' certificates; empty: each broker's host
	Insecure   bool   // no verification of the brokers' certificates

	SASL         string // "", SASLPlain, SASLSHA256 or SASLSHA512
	Username     string
	Password     string // secret
	PasswordFile string
}

// Register adds the Kafka security flags to fs.
func (k *Kafka) Register(fs *flag.FlagSet) {
	fs.BoolVar(&k.TLS, "kafka-tls", false, "TLS to the brokers")
	fs.StringVar(&k.CAFile, "kafka-tls-ca", "", "PEM bundle of the CAs that sign the brokers' certificates (default: the system pool); implies --kafka-tls")
	fs.StringVar(&k.CertFile, "kafka-tls-cert", "", "client certificate (PEM) for brokers that require one, with --kafka-tls-key; implies --kafka-tls")
	fs.StringVar(&k.KeyFile, "kafka-tls-key", "", "private key (PEM) of --kafka-tls-cert")
	fs.StringVar(&k.ServerName, "kafka-tls-server-name", "", "name expected in the brokers' certificates (default: the host dialled)")
	fs.BoolVar(&k.Insecure, "kafka-tls-insecure", false, "do not verify the brokers' certificates (logged as a warning; for tests only)")
	fs.StringVar(&k.SASL, "kafka-sasl", "", "SASL mechanism: plain, scram-sha-256 or scram-sha-512 (default: none)")
	fs.StringVar(&k.Username, "kafka-username", "", "SASL user name")
	fs.StringVar(&k.Password, "kafka-password", "", "SASL password (secret: prefer WAPIPE_KAFKA_PASSWORD or --kafka-password-file, since a flag shows in ps)")
	fs.StringVar(&k.PasswordFile, "kafka-password-file", "", "file holding the SASL password (content trimmed)")
}

// KafkaLink is how every Kafka client of a command reaches the brokers: readers and consumer
// groups dial with Dialer, writers and kafka.Client go through Transport.
type KafkaLink struct {
	Dialer    *kafka.Dialer
	Transport *kafka.Transport
	// Secured says whether TLS or SASL is on (for the start log line: never the secrets).
	Secured string
}

// Link reads the password file and the certificates and builds the dialer and the transport.
// An --kafka-tls-insecure link is logged as a warning on log (when not nil).
func (k Kafka) Link(log *slog.Logger) (*KafkaLink, error) {
	mech, err := k.mechanism()
	if err != nil {
		return nil, err
	}
	l := &KafkaLink{
		Dialer:    &kafka.Dialer{Timeout: 10 * time.Second, DualStack: true, SASLMechanism: mech},
		Transport: &kafka.Transport{DialTimeout: 10 * time.Second, SASL: mech},
		Secured:   "plaintext",
	}
	if mech != nil {
		l.Secured = "sasl " + strings.ToLower(mech.Name())
	}
	if k.TLS || k.CAFile != "" || k.CertFile != "" || k.KeyFile != "" || k.Insecure || k.ServerName != "" {
		cfg, err := TLSConfig("kafka", k.CAFile, k.CertFile, k.KeyFile, k.ServerName, k.Insecure)
		if err != nil {
			return nil, err
		}
		l.Dialer.TLS, l.Transport.TLS = cfg, cfg
		l.Secured = "tls, " + l.Secured
		if k.Insecure && log != nil {
			log.Warn("--kafka-tls-insecure: the brokers' certificates are not verified; anyone on the path can read and change the traffic")
		}
	}
	return l, nil
}

// mechanism is the SASL mechanism of the flags, nil for none.
func (k Kafka) mechanism() (sasl.Mechanism, error) {
	name := strings.ToLower(strings.TrimSpace(k.SASL))
	if name == "" || name == "none" {
		if k.Username != "" || k.Password != "" || k.PasswordFile != "" {
			return nil, errors.New("--kafka-username or a Kafka password is given without --kafka-sasl (plain, scram-sha-256 or scram-sha-512)")
		}
		return nil, nil
	}
	password, err := ReadSecret(k.Password, k.PasswordFile, "kafka-password")
	if err != nil {
		return nil, err
	}
	if k.Username == "" || password == "" {
		return nil, fmt.Errorf("--kafka-sasl %s needs --kafka-username and a password (--kafka-password, WAPIPE_KAFKA_PASSWORD or --kafka-password-file)", name)
	}
	switch name {
	case SASLPlain:
		return plain.Mechanism{Username: k.Username, Password: password}, nil
	case SASLSHA256, SASLSHA512:
		algo := scram.SHA256
		if name == SASLSHA512 {
			algo = scram.SHA512
		}
		m, err := scram.Mechanism(algo, k.Username, password)
		if err != nil { // the user name or password is not valid UTF-8 under SASLprep; never print them
			return nil, fmt.Errorf("--kafka-sasl %s: the user name or password cannot be used (SASLprep refuses it)", name)
		}
		return m, nil
	}
	return nil, fmt.Errorf("--kafka-sasl %q: want plain, scram-sha-256 or scram-sha-512", k.SASL)
}
