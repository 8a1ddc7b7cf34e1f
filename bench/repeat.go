package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
)

// repeat runs the whole benchmark c.runs times for each binary in the comma-separated
// c.binary, alternating between them (A B A B ...) so that a drift of the machine's load
// touches every binary alike. On a shared 2-core machine one run of the same binary varies
// by 20% or more (ClickHouse's cost and the GC's cycle count move with the timing), so a
// comparison needs several alternated runs and their medians. It returns the median result
// of the first binary, correct only if every run of it was.
func repeat(ctx context.Context, c config) (result, error) {
	binaries := strings.Split(c.binary, ",")
	if c.runs <= 1 && len(binaries) == 1 {
		return run(ctx, c)
	}
	runs := make([][]result, len(binaries))
	var firstErr error
	for i := range max(c.runs, 1) * len(binaries) {
		b := i % len(binaries)
		rc := c
		rc.binary = binaries[b]
		rc.build = c.build && i == 0 // only the first binary is built; the others are given
		if i > 0 {
			rc.cpuProfile, rc.memProfile = "", "" // profiles are of the first run
		}
		fmt.Printf("\n=== run %d of %d: %s\n", i+1, max(c.runs, 1)*len(binaries), rc.binary)
		r, err := run(ctx, rc)
		fmt.Printf("RUN binary=%s %s correct=%t\n", rc.binary, r.fields(), r.correct && err == nil)
		if err != nil {
			r.correct = false
			firstErr = cmp.Or(firstErr, fmt.Errorf("run %d (%s): %w", i+1, rc.binary, err))
		}
		runs[b] = append(runs[b], r)
		if ctx.Err() != nil {
			break
		}
	}
	fmt.Printf("\nmedians         %-28s %5s %12s %22s %12s %8s\n", "binary", "runs", "webhooks/s", "us/webhook (min-max)", "peak RSS MB", "correct")
	for b, rs := range runs {
		m := median(rs)
		cpu := collect(rs, func(r result) float64 { return r.cpuUSPerWebhook })
		fmt.Printf("                %-28s %5d %12.0f %10.2f (%.1f-%.1f) %12.0f %8t\n", binaries[b], len(rs), m.perSecond,
			m.cpuUSPerWebhook, cpu[0], cpu[len(cpu)-1], m.peakRSSMB, m.correct)
	}
	return median(runs[0]), firstErr
}

// median takes the median of each figure on its own; correct only if every run was.
func median(rs []result) result {
	if len(rs) == 0 {
		return result{}
	}
	mid := func(f func(result) float64) float64 {
		v := collect(rs, f)
		if n := len(v); n%2 == 0 {
			return (v[n/2-1] + v[n/2]) / 2
		}
		return v[len(v)/2]
	}
	m := result{webhooks: rs[0].webhooks, users: rs[0].users, correct: true,
		perSecond:       mid(func(r result) float64 { return r.perSecond }),
		cpuUSPerWebhook: mid(func(r result) float64 { return r.cpuUSPerWebhook }),
		peakRSSMB:       mid(func(r result) float64 { return r.peakRSSMB }),
		rowsPerWebhook:  mid(func(r result) float64 { return r.rowsPerWebhook }),
		stateMB:         mid(func(r result) float64 { return r.stateMB }),
		chUSPerWebhook:  mid(func(r result) float64 { return r.chUSPerWebhook })}
	for _, r := range rs {
		m.correct = m.correct && r.correct
	}
	return m
}

// fields is the RESULT line's figures, in its order.
func (r result) fields() string {
	return fmt.Sprintf("webhooks=%d per_second=%.0f cpu_us_per_webhook=%.2f peak_rss_mb=%.0f users=%d rows_per_webhook=%.3f state_mb=%.0f clickhouse_us_per_webhook=%.2f",
		r.webhooks, r.perSecond, r.cpuUSPerWebhook, r.peakRSSMB, r.users, r.rowsPerWebhook, r.stateMB, r.chUSPerWebhook)
}

// collect returns f of every run, sorted.
func collect(rs []result, f func(result) float64) []float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	return v
}
