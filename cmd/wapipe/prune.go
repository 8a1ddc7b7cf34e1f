package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/wapipe/wapipe/internal/connect"
	"github.com/wapipe/wapipe/sinks/clickhouse"
)

// pruneCmd drops the months of the report tables that are entirely older than --older-than (contract 11).
func pruneCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("prune", flag.ContinueOnError)
	var c common
	var l layoutFlags
	c.clickhouseFlags(fs)
	l.register(fs)
	olderThan := fs.Duration("older-than", 0, "drop the months of the report tables whose every row's first_event_at is older than this (e.g. 2160h); required")
	dryRun := fs.Bool("dry-run", false, "print the months it would drop, dropping nothing")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *olderThan <= 0 {
		return errors.New("--older-than: give how old a month must be to go, e.g. --older-than 2160h (90 days)")
	}
	cfg, err := c.clickhouseConfig(newLogger("warn")) // the user, password and TLS of contract 7
	if err != nil {
		return exitError{2, err}
	}
	cfg.Layout = l.layout()
	ch, err := clickhouse.Open(ctx, cfg)
	if err != nil {
		return exitError{2, connect.Explain("clickhouse", err)}
	}
	defer ch.Close()
	cutoff := time.Now().UTC().Add(-*olderThan)
	dropped, err := ch.Prune(ctx, cutoff, *dryRun)
	verb := "dropped"
	if *dryRun {
		verb = "would drop"
	}
	for _, p := range dropped {
		fmt.Printf("%s.%s: %s month %s (%d rows)\n", c.database, p.Table, verb, p.Month, p.Rows)
	}
	if err != nil {
		return err
	}
	if len(dropped) == 0 {
		fmt.Printf("%s: no month of %v ends before %s\n", c.database, clickhouse.ReportTables, cutoff.Format(time.RFC3339))
	}
	return nil
}
