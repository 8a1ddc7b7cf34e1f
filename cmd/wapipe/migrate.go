package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/wapipe/wapipe/internal/connect"
	"github.com/wapipe/wapipe/sinks/clickhouse"
)

func migrateCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	var c common
	c.clickhouseFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := c.clickhouseConfig(newLogger("warn"))
	if err != nil {
		return exitError{2, err}
	}
	ch, err := clickhouse.Open(ctx, cfg)
	if err != nil {
		return exitError{2, err}
	}
	defer ch.Close()
	applied, err := ch.Migrate(ctx)
	if err != nil {
		// A refused login, a TLS failure or an unreachable server: exit 2 with the cause (contract 7).
		return exitError{2, connect.Explain("clickhouse", err)}
	}
	if len(applied) == 0 {
		fmt.Printf("database %s is up to date\n", c.database)
		return nil
	}
	fmt.Printf("database %s: applied %v\n", c.database, applied)
	return nil
}
