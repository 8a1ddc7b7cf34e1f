// Package clickhouse writes wapipe's report rows to ClickHouse over the native protocol and keeps the
// database schema current. It targets ClickHouse 18.16 (what CI has) as well as current releases.
//
// What it promises:
//   - Migrate creates the database, then applies the embedded migrations (schemas.Migrations) in order and
//     records each once; it is safe to run on every start and from every replica at the same time.
//   - Insert writes the rows of one table in one INSERT that names its columns, and builds a fresh batch on
//     every call, so a failed call can be repeated with the same rows.
//   - Every error is classified (Classify, IsTransient): transient ones (network, timeouts, an overloaded or
//     not yet migrated server) are worth retrying with backoff and say nothing about the rows; permanent ones
//     mean the table rejects a row, and InsertSplitting isolates such rows so their neighbours still land.
//   - Erase empties a person's phone, username and profile name in every version of their rows of every
//     table and deletes their phone and username keys, keeping every row (counts stay); repeating it is harmless.
//   - Repeating an insert is harmless: every table is a ReplacingMergeTree on the row's logical key and
//     version, so a row written twice reads once with FINAL.
//   - With a cluster Layout (contract 11), Migrate lays every table out as Replicated <table>_local tables
//     and a Distributed table under the plain name sharded by the key, so FINAL stays exact; an insert is
//     acknowledged once it is on its shard. A schema that is current runs no DDL, so a worker starts while
//     a server of the cluster is down.
//   - The report tables are partitioned by month of first_event_at; Prune drops whole months and never
//     touches identities, contact_keys or leads; SetRetention sets a TTL where the server has one.
package clickhouse

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
)

// Config says where ClickHouse is and how to talk to it. Zero values take the defaults noted.
type Config struct {
	Addrs              []string      // native-protocol host:port, tried in order; required
	Database           string        // default "wapipe"
	Username, Password string        // default user "default", no password
	TLS                *tls.Config   // native protocol over TLS; nil: plaintext
	DialTimeout        time.Duration // default 5s
	// ReadTimeout bounds each wait for the server; a large insert into a busy server can take a while to be
	// acknowledged, so it is generous. Default 60s.
	ReadTimeout  time.Duration
	MaxOpenConns int                  // default 4: one insert per table at a time is the expected load
	Layout       Layout               // how Migrate lays the tables out; the zero Layout is one server
	Registry     *prometheus.Registry // where to register the metrics; nil keeps them unregistered
}

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (c Config) withDefaults() (Config, error) {
	if len(c.Addrs) == 0 {
		return c, errors.New("clickhouse: no address")
	}
	for _, a := range c.Addrs {
		host, port, err := net.SplitHostPort(a)
		if err != nil {
			return c, fmt.Errorf("clickhouse: address %q: %w", a, err)
		}
		if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 || host == "" {
			return c, fmt.Errorf("clickhouse: address %q: want host:port", a)
		}
	}
	if c.Database == "" {
		c.Database = "wapipe"
	}
	// The name is spliced into DDL and INSERT text, so only plain identifiers are accepted.
	if !identRe.MatchString(c.Database) {
		return c, fmt.Errorf("clickhouse: database %q is not a plain identifier", c.Database)
	}
	if c.Username == "" {
		c.Username = "default"
	}
	if c.DialTimeout < 0 || c.ReadTimeout < 0 || c.MaxOpenConns < 0 {
		return c, errors.New("clickhouse: negative timeout or connection count")
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = 5 * time.Second
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = 60 * time.Second
	}
	if c.MaxOpenConns == 0 {
		c.MaxOpenConns = 4
	}
	return c, c.Layout.validate()
}

// Client writes rows to one database. It is safe for concurrent use.
type Client struct {
	conn    driver.Conn
	db      string
	layout  Layout
	metrics *metrics
}

// Open validates cfg and prepares a connection pool. It does not dial: the first Ping or Insert does, so a
// worker may start before ClickHouse and report it through /readyz instead of exiting.
func Open(_ context.Context, cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	conn, err := clickhouse.Open(&clickhouse.Options{
		Protocol: clickhouse.Native, // clickhouse-go's HTTP protocol does not work with 18.16
		Addr:     cfg.Addrs,
		// Connect to "default", not cfg.Database: the handshake fails while the database is missing, and
		// Migrate must be able to create it. Every statement names its database instead.
		Auth:             clickhouse.Auth{Database: "default", Username: cfg.Username, Password: cfg.Password},
		TLS:              cfg.TLS,
		Compression:      &clickhouse.Compression{Method: clickhouse.CompressionLZ4},
		DialTimeout:      cfg.DialTimeout,
		ReadTimeout:      cfg.ReadTimeout,
		MaxOpenConns:     cfg.MaxOpenConns,
		MaxIdleConns:     cfg.MaxOpenConns,
		ConnMaxLifetime:  time.Hour,
		ConnOpenStrategy: clickhouse.ConnOpenInOrder,
		// An insert into a Distributed table (a cluster's plain names) is acknowledged only once every shard
		// has its rows, not when they are queued on the server we talk to: an acknowledged insert is what the
		// worker commits offsets on. Tables of one server ignore it.
		Settings: clickhouse.Settings{"insert_distributed_sync": 1},
		ClientInfo: clickhouse.ClientInfo{Products: []struct{ Name, Version string }{
			{Name: "wapipe", Version: "1"}}},
	})
	if err != nil {
		return nil, fmt.Errorf("clickhouse: open: %w", err)
	}
	return &Client{conn: conn, db: cfg.Database, layout: cfg.Layout, metrics: m}, nil
}

// Ping checks that the server answers.
func (c *Client) Ping(ctx context.Context) error { return c.conn.Ping(ctx) }

// Conn is the underlying connection, for migrations and read-only summary queries.
func (c *Client) Conn() driver.Conn { return c.conn }

// Database is the database Insert writes to.
func (c *Client) Database() string { return c.db }

// Migrate creates or upgrades the client's database (see the package function Migrate).
func (c *Client) Migrate(ctx context.Context) ([]string, error) {
	return MigrateLayout(ctx, c.conn, c.db, c.layout)
}

// Close releases the connections. Inserts in flight fail.
func (c *Client) Close() error { return c.conn.Close() }

// Prune drops the months of the report tables that ended at or before cutoff (see the package function).
func (c *Client) Prune(ctx context.Context, cutoff time.Time, dryRun bool) ([]Partition, error) {
	return Prune(ctx, c.conn, c.db, c.layout, cutoff, dryRun)
}

// SetRetention sets the report tables' TTL where the server has one (see the package function).
func (c *Client) SetRetention(ctx context.Context, retention time.Duration) (version string, applied bool, err error) {
	return SetRetention(ctx, c.conn, c.db, c.layout, retention)
}
