package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/wapipe/wapipe/gen"
	"github.com/wapipe/wapipe/internal/tcpproxy"
	"github.com/wapipe/wapipe/sinks/clickhouse"
)

// soakConfig is the soak's own flags (issue 21): the rest comes from the benchmark's config.
type soakConfig struct {
	poisonRate     float64
	workers, kills int
	outage         time.Duration
}

// soakResult is what the SOAK line says.
type soakResult struct {
	webhooks, poison          int
	lost, doubled             int64
	deadLetters, poisonLetter int
	kills                     int
	correct                   bool
}

func (r soakResult) String() string {
	return fmt.Sprintf("SOAK webhooks=%d poison=%d lost=%d doubled=%d dead_letters=%d poison_dead_lettered=%d kills=%d correct=%t",
		r.webhooks, r.poison, r.lost, r.doubled, r.deadLetters, r.poisonLetter, r.kills, r.correct)
}

// fault is one event of the soak's schedule, fired once the group's committed offsets pass
// share of the input.
type fault struct {
	at   float64
	what string // "kill", "add", "remove", "outage"
}

// schedule draws the faults: kills at random points between 5% and 90% of the input, a
// worker added at a random point of the first half, one removed in the second half, and the
// ClickHouse outage around the middle.
func schedule(rng *rand.Rand, kills int) []fault {
	var fs []fault
	for range kills {
		fs = append(fs, fault{0.05 + 0.85*rng.Float64(), "kill"})
	}
	fs = append(fs, fault{0.15 + 0.25*rng.Float64(), "add"}, fault{0.55 + 0.25*rng.Float64(), "remove"},
		fault{0.40 + 0.15*rng.Float64(), "outage"})
	slices.SortFunc(fs, func(a, b fault) int {
		if a.at < b.at {
			return -1
		}
		if a.at > b.at {
			return 1
		}
		return 0
	})
	return fs
}

// soakGroup is the workers of one consumer group, each with its own directory (state and log).
type soakGroup struct {
	c       config // c.clickhouse is the proxy's address
	brokers string
	root    string
	next    int
	live    []*soakWorker
}

type soakWorker struct {
	*worker
	name, dir string
}

const soakGroupID = "wapipe-soak"

func (g *soakGroup) add() (*soakWorker, error) {
	g.next++
	name := fmt.Sprintf("w%d", g.next)
	return g.start(name, filepath.Join(g.root, name))
}

func (g *soakGroup) start(name, dir string) (*soakWorker, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	w, err := startWorker(g.c, g.brokers, dir, soakGroupID, nil)
	if err != nil {
		return nil, err
	}
	sw := &soakWorker{worker: w, name: name, dir: dir}
	g.live = append(g.live, sw)
	return sw, nil
}

// waitUp waits until the worker serves /metrics, so that it has its signal handling in place
// and has joined the group's work.
func (w *soakWorker) waitUp(timeout time.Duration) {
	for end := time.Now().Add(timeout); time.Now().Before(end) && w.alive(); time.Sleep(100 * time.Millisecond) {
		if _, err := getScrape(w.http); err == nil {
			return
		}
	}
}

func (g *soakGroup) drop(w *soakWorker) {
	g.live = slices.DeleteFunc(g.live, func(x *soakWorker) bool { return x == w })
}

func (g *soakGroup) stopAll() {
	for _, w := range g.live {
		if err := w.stop(60 * time.Second); err != nil {
			fmt.Fprintf(os.Stderr, "soak: %s stop: %v\n", w.name, err)
		}
	}
}

// soak runs the whole soak: preload with poison, a group of workers behind a ClickHouse proxy,
// the faults, then the counts against the generator's truth.
func soak(ctx context.Context, c config, s soakConfig) (soakResult, error) {
	r := soakResult{webhooks: c.webhooks}
	ch, cluster, done, err := prepare(ctx, c)
	if err != nil {
		return r, err
	}
	defer done()
	brokers := cluster.ListenAddrs()[0]
	cfg := gen.Config{Seed: c.seed, Webhooks: c.webhooks, Users: c.users, Businesses: c.businesses,
		DuplicateRate: c.duplicateRate, PoisonRate: s.poisonRate}
	fmt.Printf("preloading %d webhooks (%.1f%% poison) into kfake (%s, %d partitions)\n", c.webhooks, 100*s.poisonRate, brokers, c.partitions)
	pre, err := preload(ctx, brokers, cfg)
	if err != nil {
		return r, err
	}
	r.poison = len(pre.poison)
	fmt.Printf("preloaded %d webhooks, %.0f MB, in %.1fs (%d duplicates, %d poison, %d contacts expected)\n", pre.exp.Bodies,
		float64(pre.bytes)/1e6, pre.took.Seconds(), pre.exp.Duplicates, len(pre.poison), pre.exp.Contacts)
	if len(pre.poison) != pre.exp.DeadLetters {
		return r, fmt.Errorf("%d distinct poison bodies, the generator expects %d dead letters", len(pre.poison), pre.exp.DeadLetters)
	}

	proxy, err := tcpproxy.Start(c.clickhouse)
	if err != nil {
		return r, err
	}
	defer proxy.Close()
	root, err := os.MkdirTemp("", "wapipe-soak")
	if err != nil {
		return r, err
	}
	if c.keep {
		fmt.Printf("workers' state and logs kept in %s\n", root)
	} else {
		defer os.RemoveAll(root)
	}
	wc := c
	wc.clickhouse = proxy.Addr()
	g := &soakGroup{c: wc, brokers: brokers, root: root}
	defer g.stopAll()
	for range s.workers {
		if _, err := g.add(); err != nil {
			return r, err
		}
	}
	fmt.Printf("%d workers started, ClickHouse through the proxy %s -> %s\n", s.workers, proxy.Addr(), c.clickhouse)

	rng := rand.New(rand.NewPCG(uint64(c.seed), 21))
	if err := drive(ctx, c, s, g, proxy, pre, rng, &r); err != nil {
		return r, err
	}
	g.stopAll()
	g.live = nil

	checks, ok := verify(ctx, ch, pre.exp)
	for _, x := range checks {
		fmt.Println(x)
	}
	extra, err := finalDoubles(ctx, ch)
	if err != nil {
		return r, err
	}
	r.lost, r.doubled = lostAndDoubled(checks, extra)
	t, err := readLetters(ctx, brokers, pre.poison)
	if err != nil {
		return r, err
	}
	r.deadLetters, r.poisonLetter = t.sources, t.poisonLetter
	fmt.Printf("dead-letter topic: %d records for %d input records; %d of %d poison bodies with a reason of their kind, %d with a wrong reason, %d missing %v, %d valid bodies\n",
		t.records, t.sources, t.poisonLetter, len(pre.poison), t.badReason, sum(t.missing), t.missing, t.valid)
	for kind, reason := range t.sample {
		fmt.Printf("  reason of a %s body: %.160s\n", kind, reason)
	}
	r.correct = ok && r.lost == 0 && r.doubled == 0 && t.valid == 0 && t.poisonLetter == len(pre.poison) &&
		t.sources == len(pre.poison)
	return r, nil
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// finalDoubles counts the rows that FINAL still holds twice for one key: a ReplacingMergeTree
// collapses rows of one sorting key, so any surplus here is a key written under two sorting keys.
func finalDoubles(ctx context.Context, ch *clickhouse.Client) (map[string]int64, error) {
	out := map[string]int64{}
	for table, key := range map[string]string{"chat_report": "tenant_id, message_id",
		"package_usage_report": "tenant_id, message_id", "voice_report": "tenant_id, call_id"} {
		var n int64
		q := fmt.Sprintf("SELECT toInt64(count() - uniqExact(%s)) FROM %s.%s FINAL", key, ch.Database(), table)
		if err := ch.Conn().QueryRow(ctx, q).Scan(&n); err != nil {
			return nil, fmt.Errorf("%s: %w", table, err)
		}
		if n != 0 {
			fmt.Printf("  FAIL %s holds %d rows twice under FINAL\n", table, n)
		}
		out[table] = n
	}
	return out, nil
}

// drive runs the group until every offset is committed, firing the faults as the committed
// share of the input passes each one.
func drive(ctx context.Context, c config, s soakConfig, g *soakGroup, proxy *tcpproxy.Proxy, pre preloaded, rng *rand.Rand, r *soakResult) error {
	admin, err := kgo.NewClient(kgo.SeedBrokers(g.brokers))
	if err != nil {
		return err
	}
	defer admin.Close()
	var total int64
	for _, e := range pre.ends {
		total += e
	}
	faults := schedule(rng, s.kills)
	var plan []string
	for _, f := range faults {
		plan = append(plan, fmt.Sprintf("%s@%.0f%%", f.what, 100*f.at))
	}
	fmt.Printf("faults, by committed share of the input: %s\n", strings.Join(plan, " "))
	fmt.Printf("ClickHouse outage: the proxy is cut (listener and live connections closed) for %v; the server is not stopped\n", s.outage)

	start := time.Now()
	deadline := start.Add(c.timeout)
	var outageEnd, quietUntil time.Time
	lastSum, progressAt, lastPrint := int64(-1), time.Now(), time.Now()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		if !outageEnd.IsZero() && time.Now().After(outageEnd) {
			if err := proxy.Restore(); err != nil {
				return fmt.Errorf("proxy restore: %w", err)
			}
			outageEnd = time.Time{}
			fmt.Printf("  %5.1fs  ClickHouse reachable again\n", time.Since(start).Seconds())
			progressAt = time.Now()
		}
		for _, w := range g.live {
			if !w.alive() {
				return fmt.Errorf("%s exited on its own: %v\n%s", w.name, w.err, w.logTail(3000))
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not all committed after %v", c.timeout)
		}
		done, all, err := committed(ctx, admin, soakGroupID, pre.ends)
		if err != nil {
			continue
		}
		if done != lastSum {
			lastSum, progressAt = done, time.Now()
		} else if outageEnd.IsZero() && time.Since(progressAt) > c.stall {
			return fmt.Errorf("stalled at %d of %d committed for %v\n%s", done, total, c.stall, g.live[0].logTail(3000))
		}
		if time.Since(lastPrint) > 10*time.Second {
			lastPrint = time.Now()
			fmt.Printf("  %5.1fs  %9d of %d committed (%.1f%%), %d workers\n", time.Since(start).Seconds(), done, total,
				100*float64(done)/float64(total), len(g.live))
		}
		if all && outageEnd.IsZero() && len(faults) == 0 {
			fmt.Printf("  %5.1fs  every offset committed (%d)\n", time.Since(start).Seconds(), done)
			return nil
		}
		// One fault at a time, a few seconds apart: offsets are committed about once a second,
		// so several points can be passed at once, and kills fired together would test less.
		if len(faults) > 0 && time.Now().After(quietUntil) && (float64(done) >= faults[0].at*float64(total) || all) {
			quietUntil = time.Now().Add(3 * time.Second)
			f := faults[0]
			faults = faults[1:]
			if err := fire(f, g, proxy, s, rng, r, &outageEnd); err != nil {
				return err
			}
			fmt.Printf("  %5.1fs  %s at %.1f%% committed\n", time.Since(start).Seconds(), describe(f, s), 100*float64(done)/float64(total))
		}
	}
}

func describe(f fault, s soakConfig) string {
	switch f.what {
	case "outage":
		return fmt.Sprintf("ClickHouse cut for %v", s.outage)
	case "add":
		return "a worker added"
	case "remove":
		return "a worker removed (SIGTERM)"
	}
	return "SIGKILL and restart"
}

// fire carries out one fault.
func fire(f fault, g *soakGroup, proxy *tcpproxy.Proxy, s soakConfig, rng *rand.Rand, r *soakResult, outageEnd *time.Time) error {
	switch f.what {
	case "outage":
		proxy.Cut()
		*outageEnd = time.Now().Add(s.outage)
	case "add":
		w, err := g.add()
		if err != nil {
			return err
		}
		fmt.Printf("          %s started (pid %d)\n", w.name, w.pid())
	case "remove":
		w := g.live[rng.IntN(len(g.live))]
		w.waitUp(30 * time.Second)
		g.drop(w)
		if err := w.stop(60 * time.Second); err != nil {
			return fmt.Errorf("%s did not stop cleanly on SIGTERM: %w\n%s", w.name, err, w.logTail(2000))
		}
		fmt.Printf("          %s stopped\n", w.name)
	case "kill":
		w := g.live[rng.IntN(len(g.live))]
		w.waitUp(30 * time.Second) // a kill before it listens would test nothing a restart had not
		_ = w.cmd.Process.Kill()
		<-w.done
		g.drop(w)
		r.kills++
		nw, err := g.start(w.name, w.dir) // the same --state-dir
		if err != nil {
			return err
		}
		fmt.Printf("          %s killed (pid %d), restarted as pid %d\n", w.name, w.pid(), nw.pid())
	default:
		return errors.New("unknown fault " + f.what)
	}
	return nil
}
