package connect

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// TLSConfig is a client TLS configuration: the CAs of caFile (PEM; empty: the system pool), the
// client certificate of certFile and keyFile (both or neither), the server name expected, or no
// verification when insecure. service ("kafka", "clickhouse") names the flags in errors.
func TLSConfig(service, caFile, certFile, keyFile, serverName string, insecure bool) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName, InsecureSkipVerify: insecure}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("--%s-tls-ca: %w", service, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--%s-tls-ca %s: no PEM certificate in it", service, caFile)
		}
		cfg.RootCAs = pool
	}
	if (certFile == "") != (keyFile == "") {
		return nil, fmt.Errorf("--%s-tls-cert and --%s-tls-key go together: give both or neither", service, service)
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("--%s-tls-cert %s / --%s-tls-key %s: %w", service, certFile, service, keyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
