package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/wapipe/wapipe/gen"
	"github.com/wapipe/wapipe/sinks/clickhouse"
)

type demoConfig struct {
	clickhouse, database, script string
	webhooks, partitions         int
	seed                         int64
	poison                       float64
}

func demoCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	var d demoConfig
	fs.StringVar(&d.clickhouse, "clickhouse", "127.0.0.1:19000", "ClickHouse native address (the private instance of scripts/clickhouse.sh)")
	fs.StringVar(&d.database, "database", defaultDemoDatabase,
		"database the demo drops and recreates (it refuses one that holds tables it did not make)")
	fs.StringVar(&d.script, "clickhouse-script", "scripts/clickhouse.sh", "script that starts the private ClickHouse when it does not answer ('' to skip)")
	fs.IntVar(&d.webhooks, "webhooks", 20_000, "webhooks to generate")
	fs.IntVar(&d.partitions, "partitions", 6, "partitions of the embedded broker's topics")
	fs.Int64Var(&d.seed, "seed", 1, "generator seed")
	fs.Float64Var(&d.poison, "poison", 0.002, "share of deliberately invalid webhooks (dead-lettered)")
	if err := parse(fs, args); err != nil {
		return err
	}
	return runDemo(ctx, d)
}

func runDemo(ctx context.Context, d demoConfig) error {
	ch, err := demoClickHouse(ctx, d)
	if err != nil {
		return err
	}
	defer ch.Close()

	cluster, err := startBroker("127.0.0.1:0", d.partitions, "", nil, "whatsapp.webhooks", "whatsapp.webhooks.dlq")
	if err != nil {
		return err
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()[0]
	fmt.Printf("▶ embedded Kafka broker (kfake) on %s, %d partitions\n", brokers, d.partitions)

	g := gen.New(gen.Config{Seed: d.seed, Webhooks: d.webhooks, PoisonRate: d.poison})
	if err := produceGenerated(ctx, brokers, g); err != nil {
		return err
	}
	exp := g.Expected()
	fmt.Printf("▶ produced %d webhooks (%d Meta-style re-deliveries, %d invalid on purpose)\n",
		exp.Bodies, exp.Duplicates, exp.DeadLetters)

	stateDir, err := os.MkdirTemp("", "wapipe-demo-state")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stateDir)
	c := common{brokers: brokers, topic: "whatsapp.webhooks", group: "wapipe-demo", dlqTopic: "whatsapp.webhooks.dlq",
		clickhouse: d.clickhouse, database: d.database, stateDir: stateDir, listen: "127.0.0.1:0",
		attributionWindow: 168 * time.Hour, startOffset: "earliest", logLevel: "error"}
	t := tuning{batchRows: 25_000, batchAge: 300 * time.Millisecond, maxInFlightMB: 32, shutdownTimeout: 30 * time.Second,
		migrate: true, maxBodyBytes: 3 << 20, identityTopic: "whatsapp.identity", lastSeenStep: time.Minute, cacheContacts: 25_000}
	reg := prometheus.NewRegistry()
	wctx, stopWorker := context.WithCancel(ctx)
	defer stopWorker()
	done := make(chan error, 1)
	started := time.Now()
	go func() { done <- runWorker(wctx, c, t, reg) }()
	fmt.Printf("▶ worker consuming (ClickHouse %s, database %s)\n", d.clickhouse, d.database)

	if err := showProgress(ctx, reg, exp.Bodies, done); err != nil {
		return err
	}
	elapsed := time.Since(started)
	time.Sleep(1500 * time.Millisecond) // one commit interval, so the summary matches committed offsets
	stopWorker()
	if err := <-done; err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	fmt.Printf("▶ consumed the whole stream in %.1fs (%.0f webhooks/s)\n\n", elapsed.Seconds(), float64(exp.Bodies)/elapsed.Seconds())
	return printSummary(ctx, os.Stdout, ch, exp, gathered(reg, "wapipe_records_dead_lettered_total"))
}

const defaultDemoDatabase = "wapipe_demo"

// demoClickHouse starts the private ClickHouse if it does not answer, and recreates the demo database.
func demoClickHouse(ctx context.Context, d demoConfig) (*clickhouse.Client, error) {
	ch, err := clickhouse.Open(ctx, clickhouse.Config{Addrs: split(d.clickhouse), Database: d.database})
	if err != nil {
		return nil, err
	}
	if ch.Ping(ctx) != nil && d.script != "" {
		if _, err := os.Stat(d.script); err == nil {
			fmt.Printf("▶ starting the private ClickHouse (%s start)\n", d.script)
			cmd := exec.CommandContext(ctx, d.script, "start")
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
			if err := cmd.Run(); err != nil {
				return nil, fmt.Errorf("%s start: %w", d.script, err)
			}
		}
	}
	if err := ch.Ping(ctx); err != nil {
		return nil, fmt.Errorf("ClickHouse at %s does not answer (start it with `scripts/clickhouse.sh start`): %w", d.clickhouse, err)
	}
	if err := demoOwns(ctx, ch, d.database); err != nil {
		return nil, err
	}
	for _, q := range []string{"DROP DATABASE IF EXISTS " + d.database, "CREATE DATABASE " + d.database,
		"CREATE TABLE " + d.database + "." + demoMarker + " (created DateTime) ENGINE = TinyLog"} {
		if err := ch.Conn().Exec(ctx, q); err != nil {
			return nil, err
		}
	}
	return ch, nil
}

// demoMarker is a table the demo creates in its database, so that a later demo knows the
// database is its own to drop.
const demoMarker = "wapipe_demo_marker"

// demoOwns refuses a database that holds tables the demo did not make (`--database wapipe`
// would otherwise drop the reports of a real deployment). The default name is the demo's own.
func demoOwns(ctx context.Context, ch *clickhouse.Client, database string) error {
	if database == defaultDemoDatabase {
		return nil
	}
	var tables, markers uint64
	err := ch.Conn().QueryRow(ctx, "SELECT count(), countIf(name = ?) FROM system.tables WHERE database = ?",
		demoMarker, database).Scan(&tables, &markers)
	if err != nil {
		return err
	}
	if tables > 0 && markers == 0 {
		return fmt.Errorf("database %s holds %d tables that wapipe demo did not make, and the demo drops its database: "+
			"give --database a name of its own", database, tables)
	}
	return nil
}

func produceGenerated(ctx context.Context, brokers string, g *gen.Generator) error {
	w := newProducer([]string{brokers}, "whatsapp.webhooks", nil)
	defer w.Close()
	batch := make([]kafka.Message, 0, 5000)
	for {
		b, ok := g.Next()
		if ok {
			batch = append(batch, kafka.Message{Key: b.Key, Value: b.Value})
		}
		if len(batch) == cap(batch) || (!ok && len(batch) > 0) {
			if err := w.WriteMessages(ctx, batch...); err != nil {
				return fmt.Errorf("produce: %w", err)
			}
			batch = batch[:0]
		}
		if !ok {
			return nil
		}
	}
}

// showProgress redraws a progress line until every produced record is durable.
func showProgress(ctx context.Context, reg *prometheus.Registry, total int, done <-chan error) error {
	tty := isTerminal(os.Stdout)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	last := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-done:
			if err == nil {
				err = errors.New("stopped before the stream was consumed")
			}
			return fmt.Errorf("worker: %w", err)
		case <-tick.C:
		}
		durable := int(gathered(reg, "wapipe_records_durable_total"))
		line := progressLine(durable, total, gathered(reg, "wapipe_clickhouse_rows_inserted_total"),
			gathered(reg, "wapipe_records_dead_lettered_total"))
		if tty {
			fmt.Printf("\r%s", line)
		} else if time.Since(last) > 2*time.Second || durable >= total {
			fmt.Println(line)
			last = time.Now()
		}
		if durable >= total {
			if tty {
				fmt.Println()
			}
			return nil
		}
	}
}

func progressLine(durable, total int, rows, dead float64) string {
	const width = 30
	filled := width * durable / max(total, 1)
	bar := make([]rune, width)
	for i := range bar {
		bar[i] = '░'
		if i < filled {
			bar[i] = '█'
		}
	}
	return fmt.Sprintf("  %s %6d/%d webhooks durable · %8.0f rows written · %4.0f dead letters",
		string(bar), durable, total, rows, dead)
}

// gathered sums a metric family's samples (counters and gauges) from reg.
func gathered(reg *prometheus.Registry, name string) float64 {
	families, err := reg.Gather()
	if err != nil {
		return 0
	}
	sum := 0.0
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
