package connect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A secret comes from its flag or its file (trimmed), not both; errors never show it.
func TestReadSecret(t *testing.T) {
	file := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(file, []byte("  s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := ReadSecret("", file, "kafka-password"); err != nil || s != "s3cret" {
		t.Fatalf("from the file: %q %v", s, err)
	}
	if s, err := ReadSecret(" fromflag ", "", "kafka-password"); err != nil || s != "fromflag" {
		t.Fatalf("from the flag: %q %v", s, err)
	}
	_, err := ReadSecret("fromflag", file, "kafka-password")
	if err == nil || strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "fromflag") {
		t.Fatalf("both given: want an error without the secrets, got %v", err)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	_ = os.WriteFile(empty, []byte("\n"), 0o600)
	if _, err := ReadSecret("", empty, "kafka-password"); err == nil {
		t.Fatal("an empty file was accepted")
	}
}

// A SASL mechanism without its credentials, or credentials without a mechanism, is refused
// before any dial, and the refusal does not print the password.
func TestKafkaLinkChecksCredentials(t *testing.T) {
	for _, k := range []Kafka{
		{SASL: SASLPlain, Username: "u"},
		{SASL: SASLSHA256, Password: "s3cret"},
		{Username: "u", Password: "s3cret"},
		{SASL: "gssapi", Username: "u", Password: "s3cret"},
		{CertFile: "/nonexistent/cert.pem"},
	} {
		if _, err := k.Link(nil); err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%+v: want an error without the password, got %v", k, err)
		}
	}
}
