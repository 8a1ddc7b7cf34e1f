package main

import (
	"context"
	"fmt"

	"github.com/wapipe/wapipe/gen"
	"github.com/wapipe/wapipe/sinks/clickhouse"
)

type countCheck struct {
	what       string
	expr, from string // SELECT toInt64(expr) FROM db.from
	want       int64
}

// checks are the demo's report counts and the e2e tests' counted-once checks (cmd/wapipe/summary.go,
// e2e/procs_test.go): every table read with FINAL against the generator's expected counts.
func checks(exp gen.Expected) []countCheck {
	return []countCheck{
		{"chat_report rows", "count()", "chat_report FINAL", int64(exp.ChatRows)},
		{"package_usage_report rows", "count()", "package_usage_report FINAL", int64(exp.UsageRows)},
		{"voice_report rows", "count()", "voice_report FINAL", int64(exp.VoiceRows)},
		{"leads", "count()", "leads FINAL WHERE touches > 0", int64(exp.Leads)},
		{"lead touches", "sum(touches)", "leads FINAL", int64(exp.Referrals)},
		{"contacts", "count()", "identities FINAL WHERE merged_into = ''", int64(exp.Contacts)},
		{"inbound messages", "countIf(direction = 'inbound')", "chat_report FINAL", int64(exp.InboundMessages)},
		{"outbound messages", "countIf(direction = 'outbound')", "chat_report FINAL", int64(exp.OutboundMessages)},
		{"outbound sent", "countIf(direction = 'outbound' AND status = 'sent')", "chat_report FINAL", int64(exp.OutboundSent)},
		{"outbound delivered", "countIf(direction = 'outbound' AND status = 'delivered')", "chat_report FINAL", int64(exp.OutboundDelivered)},
		{"outbound read", "countIf(direction = 'outbound' AND status = 'read')", "chat_report FINAL", int64(exp.OutboundRead)},
		{"outbound failed", "countIf(direction = 'outbound' AND status = 'failed')", "chat_report FINAL", int64(exp.OutboundFailed)},
		{"call seconds", "sum(duration_seconds)", "voice_report FINAL", exp.CallSeconds},
		{"distinct billed messages", "uniqExact(tenant_id, message_id)", "package_usage_report", int64(exp.UsageRows)},
		{"distinct messages", "uniqExact(tenant_id, message_id)", "chat_report", int64(exp.ChatRows)},
		{"distinct calls", "uniqExact(tenant_id, call_id)", "voice_report", int64(exp.VoiceRows)},
	}
}

type checkResult struct {
	countCheck
	got int64
	err error
}

func (r checkResult) ok() bool { return r.err == nil && r.got == r.want }

// verify runs every check once (the rows are durable before it is called, so there is nothing
// to wait for) and reports whether all agree.
func verify(ctx context.Context, ch *clickhouse.Client, exp gen.Expected) ([]checkResult, bool) {
	ok := true
	var out []checkResult
	for _, c := range checks(exp) {
		r := checkResult{countCheck: c}
		q := fmt.Sprintf("SELECT toInt64(%s) FROM %s.%s", c.expr, ch.Database(), c.from)
		r.err = ch.Conn().QueryRow(ctx, q).Scan(&r.got)
		ok = ok && r.ok()
		out = append(out, r)
	}
	return out, ok
}

func (r checkResult) String() string {
	mark := "ok  "
	if !r.ok() {
		mark = "FAIL"
	}
	if r.err != nil {
		return fmt.Sprintf("  %s %-26s error: %v (expected %d)", mark, r.what, r.err, r.want)
	}
	return fmt.Sprintf("  %s %-26s %10d (expected %d)", mark, r.what, r.got, r.want)
}
