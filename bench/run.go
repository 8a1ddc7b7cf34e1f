package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/wapipe/wapipe/gen"
	"github.com/wapipe/wapipe/sinks/clickhouse"
)

// result is what the RESULT line says.
type result struct {
	webhooks        int
	perSecond       float64
	cpuUSPerWebhook float64
	peakRSSMB       float64
	// users is the contacts the traffic has (the generator's count), rowsPerWebhook the
	// ClickHouse rows the worker inserted per webhook, stateMB the state directory's size at
	// the end, chUSPerWebhook ClickHouse's CPU during the run per webhook.
	users          int
	rowsPerWebhook float64
	stateMB        float64
	chUSPerWebhook float64
	correct        bool
}

// point is one poll of the worker's progress.
type point struct {
	at      time.Duration // since the worker started
	durable float64
	cpu     time.Duration // the worker's utime+stime
}

// measured is everything the report prints.
type measured struct {
	pre                         preloaded
	wall, durableAt             time.Duration
	workerCPU, brokerCPU, chCPU time.Duration
	chPID                       int
	peakRSSKB, rssKB            int64
	rssAnonKB, rssFileKB        int64 // of rssKB: the process's own memory, and mapped files (Badger's tables)
	stateBytes                  int64 // the worker's state directory once it stopped
	cgroup                      *memCgroup
	cgroupPeakMB                float64
	oomKills                    int
	timeline                    []point
	final                       scrape
	checks                      []checkResult
}

func run(ctx context.Context, c config) (result, error) {
	r := result{webhooks: c.webhooks}
	ch, cluster, done, err := prepare(ctx, c)
	if err != nil {
		return r, err
	}
	defer done()
	brokers := cluster.ListenAddrs()[0]
	cfg := gen.Config{Seed: c.seed, Webhooks: c.webhooks, Users: c.users, Businesses: c.businesses, DuplicateRate: c.duplicateRate}
	fmt.Printf("preloading %d webhooks into kfake (%s, %d partitions)\n", c.webhooks, brokers, c.partitions)
	var m measured
	if m.pre, err = preload(ctx, brokers, cfg); err != nil {
		return r, err
	}
	fmt.Printf("preloaded %d webhooks, %.0f MB, in %.1fs (%d duplicates, %d contacts expected)\n", m.pre.exp.Bodies,
		float64(m.pre.bytes)/1e6, m.pre.took.Seconds(), m.pre.exp.Duplicates, m.pre.exp.Contacts)

	dir, err := os.MkdirTemp("", "wapipe-bench")
	if err != nil {
		return r, err
	}
	if c.keep {
		fmt.Printf("worker state and log kept in %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	err = measure(ctx, c, brokers, dir, ch, &m)
	printReport(c, &m)
	if m.wall > 0 {
		r.perSecond = float64(m.pre.exp.Bodies) / m.wall.Seconds()
		r.cpuUSPerWebhook = float64(m.workerCPU.Microseconds()) / float64(max(m.pre.exp.Bodies, 1))
	}
	r.peakRSSMB = float64(m.peakRSSKB) / 1024
	r.users = m.pre.exp.Contacts
	if n := float64(max(m.pre.exp.Bodies, 1)); m.wall > 0 {
		r.rowsPerWebhook = m.final.sum("wapipe_clickhouse_rows_inserted_total", nil) / n
		r.chUSPerWebhook = float64(m.chCPU.Microseconds()) / n
	}
	r.stateMB = float64(m.stateBytes) / (1 << 20)
	r.correct = err == nil && len(m.checks) > 0
	for _, x := range m.checks {
		r.correct = r.correct && x.ok()
	}
	return r, err
}

// measure runs the worker until every offset is committed, sampling it, then stops it and
// checks ClickHouse.
func measure(ctx context.Context, c config, brokers, dir string, ch *clickhouse.Client, m *measured) error {
	admin, err := kgo.NewClient(kgo.SeedBrokers(brokers))
	if err != nil {
		return err
	}
	defer admin.Close()
	const group = "wapipe-bench"

	m.chPID = readPIDFile(c.chPIDFile)
	ch0, self0 := procCPU(m.chPID), selfCPU()
	if c.cgroupMB > 0 {
		if m.cgroup, err = newMemCgroup(c.cgroupMB); err != nil {
			return err
		}
	}
	w, err := startWorker(c, brokers, dir, group, m.cgroup)
	if err != nil {
		return err
	}
	defer func() {
		if err := w.stop(60 * time.Second); err != nil {
			fmt.Fprintln(os.Stderr, "bench: worker stop:", err)
		}
		if m.cgroup != nil {
			m.cgroupPeakMB, m.oomKills = m.cgroup.peakMB(), m.cgroup.oomKills()
			m.cgroup.remove()
		}
	}()
	fmt.Printf("worker pid %d started (http %s)\n", w.pid(), w.http)

	profiled := make(chan error, 1)
	profiling := false
	deadline := time.Now().Add(c.timeout)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	lastPrint := time.Now()
	stateDir, nextGrowth, nextDay := filepath.Join(dir, "state"), 1_000_000, 1
	progressAt, lastDurable := time.Now(), -1.0
	for done := false; !done; {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		if !w.alive() {
			return fmt.Errorf("worker exited early: %v\n%s", w.err, w.logTail(4000))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not all committed after %v\n%s", c.timeout, w.logTail(4000))
		}
		at := time.Since(w.started)
		s, err := getScrape(w.http)
		if err != nil {
			continue // not listening yet
		}
		p := point{at: at, durable: s.sum("wapipe_records_durable_total", nil), cpu: procCPU(w.pid())}
		m.timeline = append(m.timeline, p)
		if p.durable != lastDurable {
			progressAt, lastDurable = time.Now(), p.durable
		} else if time.Since(progressAt) > c.stall && p.durable < float64(m.pre.exp.Bodies) {
			return fmt.Errorf("stalled: %.0f records durable and none more for %v\n%s", p.durable, c.stall, w.logTail(2000))
		}
		if p.durable >= float64(m.pre.exp.Bodies) && m.durableAt == 0 {
			m.durableAt = at
		}
		if p.durable > 0 && c.cpuProfile != "" && !profiling {
			profiling = true
			go func() {
				q := fmt.Sprintf("seconds=%d", c.profileSeconds)
				profiled <- fetchProfile(w.http, "profile", q, c.cpuProfile, time.Duration(c.profileSeconds+30)*time.Second)
			}()
		}
		sum, all, err := committed(ctx, admin, group, m.pre.ends)
		if err != nil {
			continue
		}
		if all {
			done = true
			m.wall = time.Since(w.started)
			m.workerCPU = procCPU(w.pid())
			m.peakRSSKB, _ = memKB(w.pid(), "VmHWM")
			m.rssKB, _ = memKB(w.pid(), "VmRSS")
			m.rssAnonKB, _ = memKB(w.pid(), "RssAnon")
			m.rssFileKB, _ = memKB(w.pid(), "RssFile")
			m.brokerCPU, m.chCPU = selfCPU()-self0, procCPU(m.chPID)-ch0
			m.final, _ = getScrape(w.http)
		}
		if time.Since(lastPrint) > 5*time.Second {
			lastPrint = time.Now()
			rss, _ := memKB(w.pid(), "VmRSS")
			fmt.Printf("  %5.1fs  %8.0f durable  %8d committed  worker CPU %.1fs  RSS %.0f MB  state %.0f MB\n", at.Seconds(), p.durable, sum,
				p.cpu.Seconds(), float64(rss)/1024, float64(dirBytes(stateDir))/(1<<20))
		}
		// Growth: RSS and state size each time another million webhooks is durable, to show
		// that both level off once the contacts are known (issue 18).
		for p.durable >= float64(nextGrowth) {
			rss, _ := memKB(w.pid(), "VmRSS")
			hwm, _ := memKB(w.pid(), "VmHWM")
			fmt.Printf("GROWTH durable=%d rss_mb=%.0f peak_rss_mb=%.0f state_mb=%.0f\n", nextGrowth, float64(rss)/1024, float64(hwm)/1024,
				float64(dirBytes(stateDir))/(1<<20))
			nextGrowth += 1_000_000
		}
		// Event time: the state each week of webhook time is durable (and day 30), to show that
		// open messages and calls expire in event time, so the state stops growing with days.
		for days := m.pre.dayStarts; nextDay < len(days) && p.durable >= float64(days[nextDay]); nextDay++ {
			if nextDay%7 == 1 || nextDay == 30 {
				rss, _ := memKB(w.pid(), "VmRSS")
				fmt.Printf("DAY day=%d durable=%d rss_mb=%.0f state_mb=%.0f\n", nextDay, days[nextDay], float64(rss)/1024,
					float64(dirBytes(stateDir))/(1<<20))
			}
		}
	}
	if profiling {
		if err := <-profiled; err != nil {
			fmt.Fprintln(os.Stderr, "bench: cpu profile:", err)
		} else {
			fmt.Printf("CPU profile of %ds saved to %s\n", c.profileSeconds, c.cpuProfile)
		}
	}
	if c.memProfile != "" {
		if err := fetchProfile(w.http, "allocs", "", c.memProfile, time.Minute); err != nil {
			fmt.Fprintln(os.Stderr, "bench: memory profile:", err)
		} else {
			fmt.Printf("allocation profile saved to %s\n", c.memProfile)
		}
	}
	if err := w.stop(60 * time.Second); err != nil {
		return fmt.Errorf("worker stop: %w", err)
	}
	m.stateBytes = dirBytes(filepath.Join(dir, "state"))
	var ok bool
	m.checks, ok = verify(ctx, ch, m.pre.exp)
	if dead := m.final.sum("wapipe_records_dead_lettered_total", nil); int(dead) != m.pre.exp.DeadLetters {
		m.checks = append(m.checks, checkResult{countCheck: countCheck{what: "dead letters", want: int64(m.pre.exp.DeadLetters)}, got: int64(dead)})
		ok = false
	}
	if !ok {
		return errors.New("ClickHouse differs from the generator's expected counts")
	}
	return nil
}

// dirBytes is the size of the files under dir (0 when it cannot be read).
// dirBytes is the disk space the files under dir take (du, not their apparent sizes): a
// running Badger preallocates its value log as a sparse file of 2 GB.
func dirBytes(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				if st, ok := fi.Sys().(*syscall.Stat_t); ok {
					n += st.Blocks * 512
				} else {
					n += fi.Size()
				}
			}
		}
		return nil
	})
	return n
}

// selfCPU is this process's CPU: the embedded broker serving the worker, plus the sampling.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// prepare readies what the benchmark and the soak both run against: ClickHouse answering,
// their own database dropped (and dropped again by done unless --keep), the worker built,
// and an embedded broker. done closes them in reverse.
func prepare(ctx context.Context, c config) (*clickhouse.Client, *kfake.Cluster, func(), error) {
	ch, err := clickhouse.Open(ctx, clickhouse.Config{Addrs: []string{c.clickhouse}, Database: c.database})
	if err != nil {
		return nil, nil, nil, err
	}
	fail := func(err error) (*clickhouse.Client, *kfake.Cluster, func(), error) {
		ch.Close()
		return nil, nil, nil, err
	}
	if err := ch.Ping(ctx); err != nil {
		return fail(fmt.Errorf("ClickHouse at %s does not answer (make clickhouse): %w", c.clickhouse, err))
	}
	// Only the benchmark's own database: tests and the demo use theirs.
	if err := ch.Conn().Exec(ctx, "DROP DATABASE IF EXISTS "+c.database); err != nil {
		return fail(err)
	}
	if c.build {
		if err := buildWorker(c.binary); err != nil {
			return fail(err)
		}
	}
	cluster, err := startBroker(c.partitions, c.maxMessageBytes)
	if err != nil {
		return fail(err)
	}
	done := func() {
		cluster.Close()
		if !c.keep {
			_ = ch.Conn().Exec(context.Background(), "DROP DATABASE IF EXISTS "+c.database)
		}
		ch.Close()
	}
	return ch, cluster, done, nil
}
