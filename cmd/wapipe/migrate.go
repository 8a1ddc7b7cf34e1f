package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/wapipe/wapipe/sinks/clickhouse"
)

func migrateCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	var c common
	c.clickhouseFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	ch, err := clickhouse.Open(ctx, clickhouse.Config{Addrs: split(c.clickhouse), Database: c.database})
	if err != nil {
		return err
	}
	defer ch.Close()
	applied, err := ch.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Printf("database %s is up to date\n", c.database)
		return nil
	}
	fmt.Printf("database %s: applied %v\n", c.database, applied)
	return nil
}
