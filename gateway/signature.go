package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// SignatureHeader is the header in which Meta signs every webhook POST.
const SignatureHeader = "X-Hub-Signature-256"

const signaturePrefix = "sha256="

// Secrets are the app secrets a signature may be made with. The zero value accepts nothing.
type Secrets struct{ keys [][]byte }

// ParseSecrets splits a comma-separated list of app secrets, trimming each and dropping empty
// ones. Its errors and String never show a secret.
func ParseSecrets(list ...string) Secrets {
	var s Secrets
	for _, l := range list {
		for _, p := range strings.Split(l, ",") {
			if p = strings.TrimSpace(p); p != "" {
				s.keys = append(s.keys, []byte(p))
			}
		}
	}
	return s
}

// Len is how many secrets there are.
func (s Secrets) Len() int { return len(s.keys) }

// String hides the secrets, so that a Secrets printed by mistake shows none.
func (s Secrets) String() string { return "[secrets hidden]" }

// Valid reports whether header is "sha256=<hex>" with the HMAC-SHA256 of body under one of the
// secrets. Every secret is tried and the comparison is constant-time, so the answer's timing
// tells neither the MAC nor which secret matched.
func (s Secrets) Valid(header string, body []byte) bool {
	hexMAC, ok := strings.CutPrefix(header, signaturePrefix)
	if !ok || len(hexMAC) != 2*sha256.Size {
		return false
	}
	var want [sha256.Size]byte
	if _, err := hex.Decode(want[:], []byte(hexMAC)); err != nil {
		return false
	}
	valid := false
	for _, k := range s.keys {
		m := hmac.New(sha256.New, k)
		m.Write(body)
		if hmac.Equal(m.Sum(nil), want[:]) {
			valid = true
		}
	}
	return valid
}

// Sign returns the X-Hub-Signature-256 value of body under secret, as Meta computes it.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return signaturePrefix + hex.EncodeToString(m.Sum(nil))
}
