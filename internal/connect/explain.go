package connect

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/segmentio/kafka-go"
)

// Kinds of connection failure that Explain recognises.
const (
	KindAuth = "authentication failed" // wrong user or password
	KindSASL = "SASL handshake failed" // a mechanism the server does not offer, a broken exchange
	KindTLS  = "TLS failed"            // an unknown CA, a wrong name, a plaintext server
	// KindClosed: the server hung up without an answer, which is what a Kafka listener that
	// requires TLS or SASL does to a client that starts in plaintext or without SASL.
	KindClosed = "connection closed by the server"
)

// Error is a connection failure of a known kind: what went wrong, and where to look.
type Error struct {
	Service string // "kafka" or "clickhouse"
	Kind    string
	Hint    string
	Err     error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s (%s): %v", e.Service, e.Kind, e.Hint, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ClickHouse server exceptions that refuse a login.
var clickhouseAuthCodes = map[int32]bool{
	192: true, // UNKNOWN_USER (18.16)
	193: true, // WRONG_PASSWORD (18.16)
	194: true, // REQUIRED_PASSWORD
	195: true, // IP_ADDRESS_NOT_ALLOWED
	516: true, // AUTHENTICATION_FAILED (current releases)
}

// Explain returns err as an *Error when it is a refused login, a failed SASL handshake or a TLS
// failure talking to service ("kafka" or "clickhouse"), else err itself. Explaining twice is harmless.
func Explain(service string, err error) error {
	if err == nil {
		return nil
	}
	var known *Error
	if errors.As(err, &known) {
		return err
	}
	if kind, hint := classify(service, err); kind != "" {
		return &Error{Service: service, Kind: kind, Hint: hint, Err: err}
	}
	return err
}

// KindOf is the kind of a connection failure, "" when it is none of the known ones.
func KindOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

func classify(service string, err error) (kind, hint string) {
	if isTLS(err) {
		return KindTLS, fmt.Sprintf("check --%[1]s-tls, --%[1]s-tls-ca and the server's certificate and name", service)
	}
	if service == "kafka" {
		switch {
		case errors.Is(err, kafka.SASLAuthenticationFailed):
			return KindAuth, "check --kafka-sasl, --kafka-username and the password"
		case errors.Is(err, kafka.UnsupportedSASLMechanism), errors.Is(err, kafka.IllegalSASLState):
			return KindSASL, "check that the brokers offer the --kafka-sasl mechanism"
		}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		if service == "kafka" {
			return KindClosed, "if it persists: does the broker require TLS (--kafka-tls) or SASL (--kafka-sasl)? its log says why"
		}
		return KindClosed, fmt.Sprintf("if it persists: does the server require TLS (--%s-tls)? its log says why", service)
	}
	var exc *clickhouse.Exception
	if errors.As(err, &exc) && clickhouseAuthCodes[exc.Code] {
		return KindAuth, "check --clickhouse-username and the password"
	}
	return "", ""
}

func isTLS(err error) bool {
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
		header    tls.RecordHeaderError
		alert     tls.AlertError
	)
	if errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		errors.As(err, &verify) || errors.As(err, &header) || errors.As(err, &alert) {
		return true
	}
	// An alert from the server (a client certificate required or refused) is a *net.OpError
	// "remote error" around crypto/tls's unexported alert type.
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error" && strings.HasPrefix(op.Err.Error(), "tls: ")
}
