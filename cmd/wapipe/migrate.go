package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/wapipe/wapipe/internal/connect"
	"github.com/wapipe/wapipe/sinks/clickhouse"
)

// layoutFlags are the flags that say how the tables are laid out (contract 11); the worker takes them
// too, for the migrations it applies at start.
type layoutFlags struct{ cluster, zookeeperPath string }

func (l *layoutFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.cluster, "cluster", "",
		"ClickHouse cluster (its remote_servers name) the tables are laid out on: statements ON CLUSTER, rows in Replicated <table>_local tables, Distributed tables under the plain names; empty: one server")
	fs.StringVar(&l.zookeeperPath, "zookeeper-path", clickhouse.DefaultZooKeeperPath,
		"with --cluster, the ZooKeeper prefix of the replicated tables: <prefix>/{shard}/<database>/<table>_local")
}

func (l layoutFlags) layout() clickhouse.Layout {
	return clickhouse.Layout{Cluster: l.cluster, ZooKeeperPath: l.zookeeperPath}
}

func migrateCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	var c common
	var l layoutFlags
	c.clickhouseFlags(fs)
	l.register(fs)
	retention := fs.Duration("retention", 0,
		"give the report tables a TTL: rows expire this long after their first_event_at (ClickHouse 19.6 and later; "+
			"on 18.16 it says so and changes nothing: use wapipe prune); 0: leave the TTL as it is")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *retention < 0 {
		return fmt.Errorf("--retention %v: want a positive duration", *retention)
	}
	cfg, err := c.clickhouseConfig(newLogger("warn"))
	if err == nil {
		cfg.Layout = l.layout()
	}
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
	where := "database " + c.database
	if l.cluster != "" {
		where += " on cluster " + l.cluster
	}
	if len(applied) == 0 {
		fmt.Printf("%s is up to date\n", where)
	} else {
		fmt.Printf("%s: applied %v\n", where, applied)
	}
	if *retention == 0 {
		return nil
	}
	version, set, err := ch.SetRetention(ctx, *retention)
	if err != nil {
		return err
	}
	if !set {
		fmt.Printf("ClickHouse %s has no table TTL (19.6 and later have): --retention changed nothing; "+
			"drop old months with `wapipe prune --older-than %v` instead\n", version, *retention)
		return nil
	}
	fmt.Printf("%v: rows expire %v after their first_event_at (TTL on ClickHouse %s)\n",
		clickhouse.ReportTables, *retention, version)
	return nil
}
