package main

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wapipe/wapipe/gen"
	"github.com/wapipe/wapipe/sinks/clickhouse"
)

// printSummary shows what an analyst now finds in ClickHouse, and checks the counts against
// what the generator says a correct pipeline writes. It fails when they differ.
func printSummary(ctx context.Context, w io.Writer, ch *clickhouse.Client, exp gen.Expected, deadLetters float64) error {
	db := ch.Database()
	checks := []struct {
		what  string
		query string
		want  int
	}{
		{"chat_report rows (one per message)", "SELECT count() FROM %s.chat_report FINAL", exp.ChatRows},
		{"package_usage_report rows (one per billed message)", "SELECT count() FROM %s.package_usage_report FINAL", exp.UsageRows},
		{"voice_report rows (one per call)", "SELECT count() FROM %s.voice_report FINAL", exp.VoiceRows},
		{"leads (contact × ad)", "SELECT count() FROM %s.leads FINAL WHERE touches > 0", exp.Leads},
		{"contacts (identities not merged away)", "SELECT count() FROM %s.identities FINAL WHERE merged_into = ''", exp.Contacts},
	}
	fmt.Fprintln(w, "Reports in ClickHouse (read with FINAL), against the generator's expected counts:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	ok := true
	for _, c := range checks {
		var got uint64
		if err := ch.Conn().QueryRow(ctx, fmt.Sprintf(c.query, db)).Scan(&got); err != nil {
			return fmt.Errorf("%s: %w", c.what, err)
		}
		ok = mark(tw, c.what, int(got), c.want) && ok
	}
	ok = mark(tw, "dead letters (invalid webhooks)", int(deadLetters), exp.DeadLetters) && ok
	tw.Flush()

	sections := []struct{ title, query string }{
		{"Chat report: a sample of username users, with the phone filled from identity where the webhook hid it",
			`SELECT message_id, direction, message_type AS type, status, username, phone, phone_source, contact_id
			 FROM %[1]s.chat_report FINAL WHERE username != '' ORDER BY phone_source = 'identity' DESC, sent_at LIMIT 6`},
		{"Unique contacts versus unique phone numbers in the chat report (the split BSUID fixes)",
			`SELECT uniqExact(current_contact_id) AS contacts_today, uniqExact(phone) AS distinct_phones,
			 countIf(phone IS NULL) AS rows_without_phone, countIf(phone_source = 'identity') AS rows_phone_from_identity
			 FROM %[1]s.chat_report_current`},
		{"Package usage by category",
			`SELECT pricing_category AS category, pricing_type AS type, count() AS messages,
			 countIf(username != '') AS to_username_users FROM %[1]s.package_usage_report FINAL
			 GROUP BY category, type ORDER BY messages DESC`},
		{"Voice: calls and minutes by direction and status",
			`SELECT direction, status, count() AS calls, round(sum(duration_seconds) / 60, 1) AS minutes
			 FROM %[1]s.voice_report FINAL GROUP BY direction, status ORDER BY direction, status`},
		{"Top ads by leads",
			`SELECT ad_source_id, any(headline) AS headline, count() AS leads, sum(touches) AS total_touches,
			 countIf(phone IS NULL) AS leads_without_phone FROM %[1]s.leads FINAL WHERE touches > 0
			 GROUP BY ad_source_id ORDER BY leads DESC LIMIT 5`},
	}
	for _, s := range sections {
		fmt.Fprintf(w, "\n%s:\n", s.title)
		if err := printQuery(ctx, w, ch, fmt.Sprintf(s.query, db)); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\nTry: wapipe lookup --clickhouse %s --database %s --username <a username above>\n",
		"127.0.0.1:19000", db)
	if !ok {
		return fmt.Errorf("the reports differ from the expected counts")
	}
	fmt.Fprintln(w, "\n✔ every report matches the generator's expected counts")
	return nil
}

func mark(w io.Writer, what string, got, want int) bool {
	sign := "✔"
	if got != want {
		sign = "✘"
	}
	fmt.Fprintf(w, "  %s\t%s\t%d\t(expected %d)\n", sign, what, got, want)
	return got == want
}

// printQuery prints any query's result as an aligned table.
func printQuery(ctx context.Context, w io.Writer, ch *clickhouse.Client, q string) error {
	rows, err := ch.Conn().Query(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  %s\n", strings.Join(rows.Columns(), "\t"))
	types := rows.ColumnTypes()
	for rows.Next() {
		cells := make([]any, len(types))
		for i, t := range types {
			cells[i] = reflect.New(t.ScanType()).Interface()
		}
		if err := rows.Scan(cells...); err != nil {
			return err
		}
		text := make([]string, len(cells))
		for i, c := range cells {
			text[i] = cell(reflect.ValueOf(c).Elem())
		}
		fmt.Fprintf(tw, "  %s\n", strings.Join(text, "\t"))
	}
	tw.Flush()
	return rows.Err()
}

func cell(v reflect.Value) string {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "NULL"
		}
		v = v.Elem()
	}
	if t, ok := v.Interface().(time.Time); ok {
		return t.UTC().Format("2006-01-02 15:04:05")
	}
	s := fmt.Sprint(v.Interface())
	if len(s) > 34 {
		s = s[:31] + "..."
	}
	return s
}
