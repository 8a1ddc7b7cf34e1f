package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/wapipe/wapipe/internal/connect"
)

// brokerSecurityFlags make the embedded broker require SASL and serve TLS, so that a local
// setup (and a test) can exercise the workers' --kafka-sasl and --kafka-tls flags.
type brokerSecurityFlags struct {
	sasl, username, password, passwordFile string
	cert, key, clientCA                    string
}

func (b *brokerSecurityFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&b.sasl, "sasl", "", "require SASL: plain, scram-sha-256 or scram-sha-512, for the user --sasl-username (default: none)")
	fs.StringVar(&b.username, "sasl-username", "", "the one user the broker accepts")
	fs.StringVar(&b.password, "sasl-password", "", "its password (secret: prefer WAPIPE_SASL_PASSWORD or --sasl-password-file)")
	fs.StringVar(&b.passwordFile, "sasl-password-file", "", "file holding the password (content trimmed)")
	fs.StringVar(&b.cert, "tls-cert", "", "serve TLS with this certificate (PEM), with --tls-key")
	fs.StringVar(&b.key, "tls-key", "", "private key (PEM) of --tls-cert")
	fs.StringVar(&b.clientCA, "tls-client-ca", "", "require client certificates signed by a CA of this PEM bundle")
}

// kfakeMechanisms are kfake's names of the mechanisms --sasl takes.
var kfakeMechanisms = map[string]string{connect.SASLPlain: "PLAIN", connect.SASLSHA256: "SCRAM-SHA-256", connect.SASLSHA512: "SCRAM-SHA-512"}

// options are the kfake options of the flags, and how the broker is secured, for its banner.
func (b brokerSecurityFlags) options() (opts []kfake.Opt, secured string, err error) {
	secured = "plaintext"
	if b.sasl != "" {
		mech, ok := kfakeMechanisms[strings.ToLower(b.sasl)]
		if !ok {
			return nil, "", fmt.Errorf("--sasl %q: want plain, scram-sha-256 or scram-sha-512", b.sasl)
		}
		password, err := connect.ReadSecret(b.password, b.passwordFile, "sasl-password")
		if err != nil {
			return nil, "", err
		}
		if b.username == "" || password == "" {
			return nil, "", errors.New("--sasl needs --sasl-username and a password (--sasl-password, WAPIPE_SASL_PASSWORD or --sasl-password-file)")
		}
		opts = append(opts, kfake.EnableSASL(), kfake.Superuser(mech, b.username, password))
		secured = "sasl " + strings.ToLower(mech) + " for " + b.username
	}
	if b.cert == "" && b.key == "" && b.clientCA == "" {
		return opts, secured, nil
	}
	cfg, err := b.tlsConfig()
	if err != nil {
		return nil, "", err
	}
	return append(opts, kfake.TLS(cfg)), "tls, " + secured, nil
}

func (b brokerSecurityFlags) tlsConfig() (*tls.Config, error) {
	if b.cert == "" || b.key == "" {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	cert, err := tls.LoadX509KeyPair(b.cert, b.key)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if b.clientCA != "" {
		pem, err := os.ReadFile(b.clientCA)
		if err != nil {
			return nil, fmt.Errorf("--tls-client-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-client-ca %s: no PEM certificate in it", b.clientCA)
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}
