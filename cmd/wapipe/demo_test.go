package main

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/wapipe/wapipe/sinks/clickhouse"
)

// The demo drops and recreates its database, so it refuses one holding tables it did not
// make (`--database wapipe` would take a deployment's reports with it).
func TestDemoRefusesADatabaseItDidNotMake(t *testing.T) {
	addr := os.Getenv("WAPIPE_TEST_CLICKHOUSE")
	if addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("WAPIPE_TEST_CLICKHOUSE is unset in CI")
		}
		t.Skip("WAPIPE_TEST_CLICKHOUSE is unset: run `scripts/clickhouse.sh start` first")
	}
	ctx := context.Background()
	ch, err := clickhouse.Open(ctx, clickhouse.Config{Addrs: []string{addr}, Database: "default"})
	if err != nil {
		t.Fatal(err)
	}
	db := fmt.Sprintf("wapipe_demo_owns_%d", time.Now().UnixNano())
	// Drop the database, then close the connection: a deferred Close ran before t.Cleanup, so
	// the drop failed on a closed connection, silently, and every run left a database behind.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := ch.Conn().Exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
			t.Errorf("drop %s: %v", db, err)
		}
		_ = ch.Close()
	})
	exec := func(q string) {
		t.Helper()
		if err := ch.Conn().Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	if err := demoOwns(ctx, ch, db); err != nil {
		t.Fatalf("a missing database: %v", err)
	}
	exec("CREATE DATABASE " + db)
	if err := demoOwns(ctx, ch, db); err != nil {
		t.Fatalf("an empty database: %v", err)
	}
	exec("CREATE TABLE " + db + ".chat_report (message_id String) ENGINE = TinyLog")
	if err := demoOwns(ctx, ch, db); err == nil {
		t.Fatal("the demo would drop a database holding a table it did not make")
	}
	exec("CREATE TABLE " + db + "." + demoMarker + " (created DateTime) ENGINE = TinyLog")
	if err := demoOwns(ctx, ch, db); err != nil {
		t.Fatalf("a database the demo made: %v", err)
	}
}
