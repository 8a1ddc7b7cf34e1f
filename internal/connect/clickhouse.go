package connect

import (
	"crypto/tls"
	"flag"
	"log/slog"
)

// ClickHouse holds the ClickHouse user and TLS flags.
type ClickHouse struct {
	Username     string
	Password     string // secret
	PasswordFile string
	TLS          bool
	CAFile       string
	Insecure     bool
}

// Register adds the ClickHouse user and TLS flags to fs.
func (c *ClickHouse) Register(fs *flag.FlagSet) {
	fs.StringVar(&c.Username, "clickhouse-username", "default", "ClickHouse user")
	fs.StringVar(&c.Password, "clickhouse-password", "", "ClickHouse password (secret: prefer WAPIPE_CLICKHOUSE_PASSWORD or --clickhouse-password-file, since a flag shows in ps)")
	fs.StringVar(&c.PasswordFile, "clickhouse-password-file", "", "file holding the ClickHouse password (content trimmed)")
	fs.BoolVar(&c.TLS, "clickhouse-tls", false, "native protocol over TLS (the server's tcp_port_secure, 9440 by default)")
	fs.StringVar(&c.CAFile, "clickhouse-tls-ca", "", "PEM bundle of the CAs that sign the server's certificate (default: the system pool); implies --clickhouse-tls")
	fs.BoolVar(&c.Insecure, "clickhouse-tls-insecure", false, "do not verify the server's certificate (logged as a warning; for tests only)")
}

// ClickHouseAuth is what the ClickHouse client needs of the flags.
type ClickHouseAuth struct {
	Username, Password string
	TLS                *tls.Config // nil: plaintext
}

// Auth reads the password file and the CA bundle. An insecure TLS setting is logged as a
// warning on log (when not nil).
func (c ClickHouse) Auth(log *slog.Logger) (ClickHouseAuth, error) {
	password, err := ReadSecret(c.Password, c.PasswordFile, "clickhouse-password")
	if err != nil {
		return ClickHouseAuth{}, err
	}
	a := ClickHouseAuth{Username: c.Username, Password: password}
	if c.TLS || c.CAFile != "" || c.Insecure {
		if a.TLS, err = TLSConfig("clickhouse", c.CAFile, "", "", "", c.Insecure); err != nil {
			return ClickHouseAuth{}, err
		}
		if c.Insecure && log != nil {
			log.Warn("--clickhouse-tls-insecure: the server's certificate is not verified; anyone on the path can read and change the traffic")
		}
	}
	return a, nil
}
