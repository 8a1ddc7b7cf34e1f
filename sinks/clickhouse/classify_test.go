package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/wapipe/wapipe/model"
)

func TestClassifyWithoutServer(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{io.EOF, ClassTransient},
		{context.DeadlineExceeded, ClassTransient},
		{fmt.Errorf("send: %w", context.Canceled), ClassTransient},
		{&clickhouse.Exception{Code: 252}, ClassTransient}, // TOO_MANY_PARTS
		{&clickhouse.Exception{Code: 241}, ClassTransient}, // MEMORY_LIMIT_EXCEEDED
		{&clickhouse.Exception{Code: 60}, ClassSchema},     // UNKNOWN_TABLE
		{&clickhouse.Exception{Code: 16}, ClassSchema},     // NO_SUCH_COLUMN_IN_TABLE
		{&clickhouse.Exception{Code: 53}, ClassPermanent},  // TYPE_MISMATCH
		{&RowError{Index: 3, Err: errors.New("converting string to UInt64 is unsupported")}, ClassPermanent},
		{fmt.Errorf("%w %q", ErrUnknownTable, "nope"), ClassPermanent},
	} {
		if got := Classify(tc.err); got != tc.want {
			t.Errorf("Classify(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func TestDownServerIsTransient(t *testing.T) {
	c, err := Open(t.Context(), Config{Addrs: []string{closedPort(t)}, DialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Ping(t.Context()); !IsTransient(err) {
		t.Errorf("Ping of a closed port: %v, want a transient error", err)
	}
	err = c.Insert(t.Context(), "chat_report", []model.Row{chatRow(1, 1)})
	if err == nil || !IsTransient(err) {
		t.Errorf("Insert to a closed port: %v, want a transient error", err)
	}
	if rejected, err := c.InsertSplitting(t.Context(), "chat_report", []model.Row{chatRow(1, 1)}); err == nil ||
		rejected != nil {
		t.Errorf("InsertSplitting to a closed port: %v, %v; want the transient error alone", rejected, err)
	}
}

func TestServerErrorsAreClassified(t *testing.T) {
	c, _ := testClient(t)
	// Not migrated yet: the database is missing, which a retry after `wapipe migrate` fixes.
	err := c.Insert(t.Context(), "chat_report", []model.Row{chatRow(1, 1)})
	if Classify(err) != ClassSchema || !IsTransient(err) {
		t.Errorf("insert before migrate: %v is %q, want schema", err, Classify(err))
	}
	if _, err := c.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	err = c.Insert(t.Context(), "chat_report", []model.Row{chatRow(1, 1), badRow{chatRow(2, 1)}})
	var rowErr *RowError
	if !errors.As(err, &rowErr) || rowErr.Index != 1 || IsTransient(err) {
		t.Errorf("type error: %v, want a permanent *RowError for row 1", err)
	}
	err = c.Insert(t.Context(), "chat_report", []model.Row{oneOfEach()[1]})
	if !errors.As(err, &rowErr) || IsTransient(err) {
		t.Errorf("row of another table: %v, want a permanent *RowError", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	if err := c.Insert(ctx, "chat_report", []model.Row{chatRow(1, 1)}); !IsTransient(err) {
		t.Errorf("expired context: %v, want transient", err)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Addrs: []string{"localhost"}},
		{Addrs: []string{"localhost:0"}},
		{Addrs: []string{"127.0.0.1:9000"}, Database: "wapipe; DROP"},
		{Addrs: []string{"127.0.0.1:9000"}, DialTimeout: -1},
	} {
		if _, err := Open(t.Context(), cfg); err == nil {
			t.Errorf("Open(%+v) accepted", cfg)
		}
	}
}
