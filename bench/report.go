package main

import (
	"fmt"
	"time"
)

// steady is the rate and worker CPU between 10% and 90% of the records durable: start-up
// (migrations, Badger, the group join) and the last partial batch left out.
func steady(tl []point, total float64) (perSecond, cpuUS float64, ok bool) {
	var lo, hi *point
	for i := range tl {
		if lo == nil && tl[i].durable >= 0.1*total {
			lo = &tl[i]
		}
		if hi == nil && tl[i].durable >= 0.9*total {
			hi = &tl[i]
		}
	}
	if lo == nil || hi == nil || hi.at <= lo.at || hi.durable <= lo.durable {
		return 0, 0, false
	}
	n := hi.durable - lo.durable
	return n / (hi.at - lo.at).Seconds(), float64((hi.cpu - lo.cpu).Microseconds()) / n, true
}

func printReport(c config, m *measured) {
	n := float64(m.pre.exp.Bodies)
	fmt.Println()
	fmt.Printf("webhooks %d (%d duplicates), %.0f MB of bodies, %d partitions, %d expected contacts\n",
		m.pre.exp.Bodies, m.pre.exp.Duplicates, float64(m.pre.bytes)/1e6, c.partitions, m.pre.exp.Contacts)
	if m.cgroup != nil {
		fmt.Printf("cgroup       the worker ran in a memory cgroup of %d MB: peak usage %.0f MB (its memory and the page cache charged to it), %d OOM kills\n",
			c.cgroupMB, m.cgroupPeakMB, m.oomKills)
	}
	if m.wall == 0 {
		fmt.Println("the run did not complete: no figures")
		return
	}
	fmt.Printf("throughput   %8.0f webhooks/s  wall %.2fs from worker start to all committed (all durable at %.2fs)\n",
		n/m.wall.Seconds(), m.wall.Seconds(), m.durableAt.Seconds())
	if rate, cpu, ok := steady(m.timeline, n); ok {
		fmt.Printf("steady state %8.0f webhooks/s  %.2f us worker CPU per webhook (10%% to 90%% durable)\n", rate, cpu)
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / n }
	fmt.Printf("CPU          worker %.2fs (%.2f us/webhook, %.2f cores)  broker+bench %.2fs (%.2f us/webhook)  ClickHouse %.2fs (%.2f us/webhook)\n",
		m.workerCPU.Seconds(), per(m.workerCPU), m.workerCPU.Seconds()/m.wall.Seconds(),
		m.brokerCPU.Seconds(), per(m.brokerCPU), m.chCPU.Seconds(), per(m.chCPU))
	if m.chPID == 0 {
		fmt.Printf("             (ClickHouse CPU not measured: no live pid in %q)\n", c.chPIDFile)
	}
	fmt.Printf("memory       worker peak RSS %.0f MB (VmHWM), RSS %.0f MB at the end (%.0f anonymous, %.0f mapped files), Go heap in use %.0f MB, %0.f GC cycles\n",
		float64(m.peakRSSKB)/1024, float64(m.rssKB)/1024, float64(m.rssAnonKB)/1024, float64(m.rssFileKB)/1024,
		m.final.sum("go_memstats_heap_inuse_bytes", nil)/(1<<20),
		m.final.sum("go_gc_duration_seconds_count", nil))

	b, r, f := m.final.histogram("wapipe_batch_records", nil), m.final.histogram("wapipe_batch_rows", nil), m.final.histogram("wapipe_batch_flush_seconds", nil)
	fmt.Printf("batches      %.0f flushed: %.0f records and %.0f rows each on average; flush %.0f ms mean, p99 <= %.0f ms\n",
		b.count, b.mean(), r.mean(), f.mean()*1000, f.quantile(0.99)*1000)
	fmt.Println("inserts      table                  inserts      rows  rows/insert  mean ms  p50<= ms  p99<= ms")
	const lat = "wapipe_clickhouse_insert_duration_seconds"
	for _, table := range m.final.labelValues(lat+"_count", "table") {
		h := m.final.histogram(lat, map[string]string{"table": table})
		rows := m.final.sum("wapipe_clickhouse_rows_inserted_total", map[string]string{"table": table})
		fmt.Printf("             %-20s %9.0f %9.0f %12.0f %8.1f %9.0f %9.0f\n", table, h.count, rows, rows/max(h.count, 1),
			h.mean()*1000, h.quantile(0.5)*1000, h.quantile(0.99)*1000)
	}
	if errs := m.final.sum("wapipe_clickhouse_insert_errors_total", nil); errs > 0 {
		fmt.Printf("             %.0f insert errors (retried)\n", errs)
	}

	fmt.Println("correctness  ClickHouse with FINAL against the generator's expected counts:")
	for _, x := range m.checks {
		fmt.Println(x)
	}
	fmt.Println("targets:")
	target := func(what string, got, limit float64, atMost bool, unit string) {
		met := got >= limit
		if atMost {
			met = got <= limit
		}
		verdict := "met"
		if !met {
			verdict = fmt.Sprintf("MISSED by %.0f%%", 100*abs(got-limit)/limit)
		}
		fmt.Printf("  %-28s %10.1f %-10s target %s %.0f: %s\n", what, got, unit, map[bool]string{true: "<=", false: ">="}[atMost], limit, verdict)
	}
	target("throughput (wall)", n/m.wall.Seconds(), 100_000, false, "webhooks/s")
	target("worker CPU per webhook", per(m.workerCPU), 10, true, "us")
	target("worker peak RSS", float64(m.peakRSSKB)/1024, float64(c.rssBudgetMB), true, "MB")
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
