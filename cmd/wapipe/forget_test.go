package main

import (
	"strings"
	"testing"
	"time"

	"github.com/wapipe/wapipe/sinks/clickhouse"
)

// The text output names the contact and those merged into it, the cut, the workers told,
// each table with what was emptied or deleted, and warns of rows that hold the data again.
func TestForgetPrintsWhatItChanged(t *testing.T) {
	d := &forgotten{TenantID: "t1", ContactID: "c_1", MergedFrom: []string{"c_2"}, Cut: time.Unix(1_781_000_000, 0).UTC(),
		Topic: "whatsapp.identity.wapipe", Records: 2,
		Tables: []clickhouse.ErasedTable{{Table: "chat_report", Rows: 3}, {Table: "contact_keys", Rows: 2, Deleted: true}},
		Left:   map[string]uint64{"chat_report": 1}}
	var b strings.Builder
	d.print(&b)
	out := b.String()
	for _, want := range []string{"c_1 (tenant t1)", "merged from  c_2", "erased as of 2026-06-09T10:13:20Z",
		"2 erasure record(s) on whatsapp.identity.wapipe", "chat_report           3 rows emptied",
		"contact_keys          2 phone/username keys deleted", "warning: chat_report has 1 rows"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
