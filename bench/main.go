// Command bench is wapipe's end-to-end benchmark (issue 7). It measures what one worker costs
// on realistic traffic, with every process's share visible:
//
//   - it preloads N generated webhooks (gen: inbound messages, statuses with pricing, calls,
//     identity changes, about 10% Meta-style re-deliveries, users moving from phone to BSUID)
//     into an embedded kfake broker that runs inside this process;
//   - it builds bin/wapipe (without -race) and runs `wapipe run` as a separate process against
//     that broker and a fresh database on the private ClickHouse, so the worker's CPU and RSS
//     are its own;
//   - it waits until every offset is committed, then reports webhooks per second (wall, from
//     the worker's start, and steady state between 10% and 90% durable), worker CPU per
//     webhook (utime+stime from /proc), peak RSS (VmHWM), the CPU of the broker (this process)
//     and of ClickHouse, insert batch sizes and latencies from the worker's /metrics, optional
//     CPU and allocation profiles from its /debug/pprof, and whether every table holds, with
//     FINAL, exactly the rows the generator expects.
//
// Each time another million webhooks is durable it prints a GROWTH line (RSS, peak RSS and
// the state directory's size), to show memory and state leveling off once the contacts are
// known. The last line is always
//
//	RESULT webhooks=N per_second=X cpu_us_per_webhook=Y peak_rss_mb=Z users=U rows_per_webhook=R state_mb=S clickhouse_us_per_webhook=C correct=true|false
//
// Run it with `make bench` or `go run ./bench -h` for the flags.
//
// With --soak (`make soak`, issue 21) it is the soak instead: the traffic carries
// --poison-rate poison bodies, a group of --workers workers consumes it while the soak
// SIGKILLs and restarts one of them --kills times at random moments (on the same
// --state-dir), adds a worker, removes one (SIGTERM) and cuts ClickHouse off for --outage
// (a TCP proxy in this process between the workers and ClickHouse is closed: the shared
// server is not stopped). Once every offset is committed it counts, with FINAL, the rows
// lost and doubled against the generator's truth, and reads the dead-letter topic: every
// poison body must be there with a reason of its kind, and no valid body. The last line is
//
//	SOAK webhooks=N poison=P lost=L doubled=D dead_letters=X poison_dead_lettered=Y kills=K correct=true|false
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

type config struct {
	webhooks, users, businesses, partitions int
	seed                                    int64
	duplicateRate                           float64
	clickhouse, database, chPIDFile         string
	binary                                  string
	build, keep                             bool
	runs                                    int
	maxInFlightMB, batchRows                int
	memoryLimitMB, cacheContacts            int
	batchAge, timeout, lastSeenStep         time.Duration
	rssBudgetMB                             int
	cgroupMB                                int
	cpuProfile, memProfile                  string
	profileSeconds                          int
	maxMessageBytes                         int
	stall                                   time.Duration
}

func main() {
	var c config
	flag.IntVar(&c.webhooks, "webhooks", 1_000_000, "webhooks to generate and preload")
	flag.IntVar(&c.users, "users", 0, "user population (0: the generator's default, webhooks/10)")
	flag.IntVar(&c.businesses, "businesses", 0, "business phone numbers, i.e. distinct Kafka keys (0: the generator's default, 3)")
	flag.IntVar(&c.partitions, "partitions", 6, "partitions of the input topic")
	flag.Int64Var(&c.seed, "seed", 1, "generator seed")
	flag.Float64Var(&c.duplicateRate, "duplicate-rate", 0, "share of re-delivered bodies (0: the generator's default, 0.10)")
	flag.StringVar(&c.clickhouse, "clickhouse", "127.0.0.1:19000", "ClickHouse native address")
	flag.StringVar(&c.database, "database", "wapipe_bench", "database the benchmark drops and recreates (no other is touched)")
	flag.StringVar(&c.chPIDFile, "clickhouse-pid-file", ".clickhouse/clickhouse-server.pid", "pid file of the ClickHouse server, to measure its CPU ('' to skip)")
	flag.StringVar(&c.binary, "binary", "bin/wapipe", "the worker binary; several, comma-separated, are run in turn (A B A B ...) and compared by their medians")
	flag.IntVar(&c.runs, "runs", 1, "runs of each binary; with more than one, the RESULT line gives the first binary's medians")
	flag.BoolVar(&c.build, "build", true, "build the (first) binary first (go build -o BINARY ./cmd/wapipe, without -race)")
	flag.BoolVar(&c.keep, "keep", false, "keep the database and the worker's state directory afterwards")
	flag.IntVar(&c.maxInFlightMB, "max-in-flight-mb", 32, "the worker's --max-in-flight-mb")
	flag.IntVar(&c.batchRows, "batch-rows", 25_000, "the worker's --batch-rows")
	flag.IntVar(&c.memoryLimitMB, "memory-limit-mb", 0, "the worker's --memory-limit-mb (0: the worker's default)")
	flag.IntVar(&c.cacheContacts, "cache-contacts", 0, "the worker's --cache-contacts (0: the worker's default)")
	flag.DurationVar(&c.lastSeenStep, "last-seen-step", 0, "the worker's --last-seen-step (0: the worker's default)")
	flag.DurationVar(&c.batchAge, "batch-age", time.Second, "the worker's --batch-age")
	flag.DurationVar(&c.timeout, "timeout", 30*time.Minute, "give up when the worker has not committed everything by then")
	flag.IntVar(&c.rssBudgetMB, "rss-budget-mb", 512, "worker peak RSS target; exceeding it is reported, not fatal")
	flag.IntVar(&c.cgroupMB, "cgroup-memory-mb", 0, "run the worker in a memory cgroup of this many MB, as a container limit does (needs root; 0: no limit)")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "save a CPU profile of the worker taken during the run to this file")
	flag.StringVar(&c.memProfile, "memprofile", "", "save the worker's allocation profile (allocs, taken when all is committed) to this file")
	flag.IntVar(&c.profileSeconds, "profile-seconds", 20, "length of the CPU profile, started when the first batch is durable")
	// 8 MiB, as e2e/poison_test.go uses: the worker's identity-snapshot batches outgrow Kafka's
	// 1 MiB default at this rate (see bench/RESULTS.md); 1048588 reproduces a stock broker.
	flag.IntVar(&c.maxMessageBytes, "broker-max-message-bytes", 8<<20, "the embedded broker's message.max.bytes")
	flag.DurationVar(&c.stall, "stall", time.Minute, "give up when no record became durable for this long (the soak: at least 3m)")
	var s soakConfig
	soakMode := flag.Bool("soak", false, "run the soak (issue 21) instead of the benchmark")
	flag.Float64Var(&s.poisonRate, "poison-rate", 0.01, "the soak: share of poison bodies")
	flag.IntVar(&s.workers, "workers", 3, "the soak: workers in the group at the start (one is added and one removed mid-run)")
	flag.IntVar(&s.kills, "kills", 10, "the soak: SIGKILLs of a random worker at random moments, each restarted on its state")
	flag.DurationVar(&s.outage, "outage", 30*time.Second, "the soak: how long ClickHouse is cut off from the workers mid-run")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *soakMode {
		given := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { given[f.Name] = true })
		if !given["database"] {
			c.database = "wapipe_soak"
		}
		// A SIGKILLed member holds its partitions until its session times out, and the
		// workers back off while ClickHouse is away: a minute without progress is normal here.
		c.stall = max(c.stall, 3*time.Minute)
		r, err := soak(ctx, c, s)
		if err != nil {
			fmt.Fprintln(os.Stderr, "soak:", err)
			r.correct = false
		}
		fmt.Println(r)
		if !r.correct {
			os.Exit(1)
		}
		return
	}
	r, err := repeat(ctx, c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
	}
	fmt.Printf("RESULT %s correct=%t\n", r.fields(), r.correct && err == nil)
	if err != nil || !r.correct {
		os.Exit(1)
	}
}
