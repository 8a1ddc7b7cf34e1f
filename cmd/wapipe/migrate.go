package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/wapipe/wapipe/sinks/clickhouse"
)

// layoutFlags are the flags that say how the tables are laid out (contract 11); the worker takes them
// too, for the migrations it applies at start.
type layoutFlags struct{ cluster, zookeeperPath string }

func (l *layoutFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.cluster, "cluster", "",
		"ClickHouse cluster (remote_servers) to create the tables on: ON CLUSTER, Replicated <table>_local tables, Distributed tables under the plain names; empty: one server")
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
	if err := parse(fs, args); err != nil {
		return err
	}
	ch, err := clickhouse.Open(ctx, clickhouse.Config{Addrs: split(c.clickhouse), Database: c.database, Layout: l.layout()})
	if err != nil {
		return err
	}
	defer ch.Close()
	applied, err := ch.Migrate(ctx)
	if err != nil {
		return err
	}
	where := "database " + c.database
	if l.cluster != "" {
		where += " on cluster " + l.cluster
	}
	if len(applied) == 0 {
		fmt.Printf("%s is up to date\n", where)
		return nil
	}
	fmt.Printf("%s: applied %v\n", where, applied)
	return nil
}
