package clickhouse

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// Times of the rows of a database of the previous layout: two months, so the new tables get two partitions.
var (
	jan30 = time.Date(2026, 1, 30, 12, 0, 0, 0, time.UTC).Unix()
	jan31 = time.Date(2026, 1, 31, 23, 59, 0, 0, time.UTC).Unix()
	feb01 = time.Date(2026, 2, 1, 0, 1, 0, 0, time.UTC).Unix()
)

// unpartitioned builds a database as the version before the partitions left it (migrations up to 007)
// with, per report table, keys written in several versions, and returns the keys it wrote.
func unpartitioned(t *testing.T) (*Client, map[string]int) {
	t.Helper()
	c, _ := testClient(t)
	if _, err := migrateUpTo(t.Context(), c.Conn(), c.Database(), Layout{}, 7); err != nil {
		t.Fatal(err)
	}
	keys := map[string]int{}
	exec := func(q string, args ...any) {
		t.Helper()
		if err := c.Conn().Exec(t.Context(), fmt.Sprintf(q, args...)); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// m-late: sent_at moves from Jan 31 to Jan 30 between versions (a sent after a delivered); 300 keys of
	// Feb 1 written twice with one version.
	for _, v := range []struct {
		id      string
		sentAt  int64
		version int
	}{{"m-late", jan31, 1}, {"m-late", jan30, 2}} {
		// INSERT ... SELECT: clickhouse-go sends no inline VALUES to 18.16.
		exec(`INSERT INTO %s.chat_report (tenant_id, message_id, direction, status, sent_at, status_at, version)
			SELECT 't1', '%s', 'outbound', 'delivered', toDateTime(%d), toDateTime(%d), %d`, c.Database(), v.id, v.sentAt, jan31, v.version)
	}
	for range 2 {
		exec(`INSERT INTO %s.chat_report (tenant_id, message_id, direction, status, sent_at, status_at, version)
			SELECT 't1', concat('m', toString(number)), 'inbound', 'received', toDateTime(%d), toDateTime(%d), 1
			FROM system.numbers LIMIT 300`,
			c.Database(), feb01, feb01)
	}
	keys["chat_report"] = 301
	exec(`INSERT INTO %s.package_usage_report (tenant_id, message_id, billed_at, version)
		SELECT 't1', concat('m', toString(number)), toDateTime(%d + number * 3600), 1 FROM system.numbers LIMIT 100`, c.Database(), jan30)
	keys["package_usage_report"] = 100
	for _, v := range []struct {
		id, status string
		at         int64
		version    int
	}{{"c1", "RINGING", jan31, 1}, {"c1", "COMPLETED", feb01, 2}, {"c2", "COMPLETED", jan30, 1}} {
		exec(`INSERT INTO %s.voice_report (tenant_id, call_id, status, event_at, version)
			SELECT 't1', '%s', '%s', toDateTime(%d), %d`, c.Database(), v.id, v.status, v.at, v.version)
	}
	keys["voice_report"] = 2
	return c, keys
}

// The partition migration keeps every row (the latest version of every key, unchanged), gives each its
// month, resumes when a run died after the RENAME, and applies nothing the second time.
func TestPartitionMigrationKeepsEveryRow(t *testing.T) {
	c, keys := unpartitioned(t)
	before := map[string][][]any{}
	for table := range keys {
		before[table] = readOld(t, c, table)
		if len(before[table]) != keys[table] {
			t.Fatalf("%s: %d keys before, want %d", table, len(before[table]), keys[table])
		}
	}
	applied, err := c.Migrate(t.Context())
	if err != nil || !slices.Equal(applied, []string{"008_swap_report_partitions"}) {
		t.Fatalf("applied %v, err %v", applied, err)
	}
	for table := range keys {
		if after := readOld(t, c, table); !slices.EqualFunc(after, before[table], slices.Equal) {
			t.Errorf("%s after the migration:\n%v\nbefore:\n%v", table, after, before[table])
		}
		key, err := partitionKey(t.Context(), c.Conn(), c.Database(), table)
		if err != nil || key != "toYYYYMM(first_event_at)" {
			t.Errorf("%s: partition key %q, %v", table, key, err)
		}
		for _, leftover := range []string{nextSuffix, oldSuffix, lockSuffix} {
			if ok, _ := exists(t.Context(), c.Conn(), c.Database(), table+leftover); ok {
				t.Errorf("%s%s is left behind", table, leftover)
			}
		}
	}
	var partitions []string
	rows, err := c.Conn().Query(t.Context(), fmt.Sprintf(`SELECT DISTINCT partition FROM system.parts
		WHERE database = '%s' AND table = 'chat_report' AND active ORDER BY partition`, c.Database()))
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p string
		_ = rows.Scan(&p)
		partitions = append(partitions, p)
	}
	rows.Close()
	if !slices.Equal(partitions, []string{"202601", "202602"}) {
		t.Errorf("chat_report partitions %v, want 202601 202602", partitions)
	}
	var first int64
	if err := c.Conn().QueryRow(t.Context(), fmt.Sprintf(`SELECT toInt64(first_event_at) FROM %s.chat_report FINAL
		WHERE message_id = 'm-late'`, c.Database())).Scan(&first); err != nil || first != jan30 {
		t.Errorf("m-late first_event_at %d (%v), want its latest sent_at %d", first, err, jan30)
	}
	if again, err := c.Migrate(t.Context()); err != nil || len(again) != 0 {
		t.Errorf("second run applied %v, err %v", again, err)
	}
}

// A run that died after the RENAME left <table>__old beside the new table: the next run copies again
// what the new table may lack, and drops it.
func TestPartitionMigrationResumes(t *testing.T) {
	c, keys := unpartitioned(t)
	before := readOld(t, c, "voice_report")
	db := c.Database()
	stmts := mustSwapStatements(t)
	for _, q := range []string{
		"RENAME TABLE " + db + ".voice_report TO " + db + ".voice_report" + oldSuffix,
		strings.ReplaceAll(stmts["voice_report"], "{database}", db),
	} {
		if err := c.Conn().Exec(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if after := readOld(t, c, "voice_report"); !slices.EqualFunc(after, before, slices.Equal) || len(after) != keys["voice_report"] {
		t.Errorf("voice_report after the resumed swap:\n%v\nbefore:\n%v", after, before)
	}
	if ok, _ := exists(t.Context(), c.Conn(), db, "voice_report"+oldSuffix); ok {
		t.Error("voice_report__old is left behind")
	}
}

// mustSwapStatements returns the partition migration's CREATE TABLE per table, for the test database.
func mustSwapStatements(t *testing.T) map[string]string {
	t.Helper()
	all, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range all {
		if m.swaps() {
			for _, s := range m.Statements {
				out[createTableRe.FindStringSubmatch(s)[1]] = s
			}
		}
	}
	return out
}

// readOld reads table FINAL in the columns of the previous layout (without first_event_at), ordered by key.
func readOld(t *testing.T, c *Client, table string) [][]any {
	t.Helper()
	cols, err := columns(t.Context(), c.Conn(), c.Database(), table)
	if err != nil {
		t.Fatal(err)
	}
	cols = slices.DeleteFunc(cols, func(s string) bool { return s == "first_event_at" })
	rows, err := c.Conn().Query(t.Context(), fmt.Sprintf("SELECT toString(tuple(%s)) FROM %s.%s FINAL ORDER BY 1",
		strings.Join(cols, ", "), c.Database(), table))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, []any{s})
	}
	return out
}
