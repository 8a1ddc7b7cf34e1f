package durable

import (
	"fmt"
	"testing"

	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/unit"
)

// A batch carries several versions of one row (a message's statuses, a contact's events,
// from records in any order). Only the row FINAL would read is inserted: the highest
// version, the later of equal ones; rows of other keys, and of other tables with the same
// key values, all stay, in the order they came.
func TestGroupInsertsOnlyTheVersionFinalReads(t *testing.T) {
	chat := func(tenant, id, status string, version uint64) *model.ChatRow {
		return &model.ChatRow{Tenant: tenant, MessageID: id, Status: status, Version: version}
	}
	sent, read, delivered := chat("t1", "wamid.1", "sent", 1), chat("t1", "wamid.1", "read", 3), chat("t1", "wamid.1", "delivered", 2)
	other, otherTenant := chat("t1", "wamid.2", "sent", 1), chat("t2", "wamid.1", "sent", 1)
	usage := &model.UsageRow{Tenant: "t1", MessageID: "wamid.1", Version: 1}
	firstSpelling := &model.ContactKeyRow{Tenant: "t1", KeyType: "username", KeyValue: "@ana", ContactID: "c1", Version: 7}
	sameVersionLater := &model.ContactKeyRow{Tenant: "t1", KeyType: "username", KeyValue: "@ana", ContactID: "c2", Version: 7}
	batch := []*unit.Unit{
		{Rows: []model.Row{sent, usage, firstSpelling}},
		{Rows: []model.Row{read, other}},
		{Rows: []model.Row{delivered, otherTenant, sameVersionLater}}, // delivered arrived after read
	}
	got := group(batch)
	want := map[string][]model.Row{
		"chat_report":          {read, other, otherTenant},
		"package_usage_report": {usage},
		"contact_keys":         {sameVersionLater},
	}
	if len(got) != len(want) {
		t.Fatalf("tables %v, want %v", got, want)
	}
	for table, rows := range want {
		if len(got[table]) != len(rows) {
			t.Fatalf("%s: %d rows %v, want %d", table, len(got[table]), got[table], len(rows))
		}
		for i := range rows {
			if got[table][i] != rows[i] {
				t.Errorf("%s row %d: %+v, want %+v", table, i, got[table][i], rows[i])
			}
		}
	}
}

// A batch the size the worker cuts (25,000 rows), where each message comes three times
// (its statuses) and each contact key twice.
func BenchmarkGroup(b *testing.B) {
	var batch []*unit.Unit
	for i := range 5000 {
		id := fmt.Sprintf("wamid.%d", i)
		u := &unit.Unit{}
		for v := range 3 {
			u.Rows = append(u.Rows, &model.ChatRow{Tenant: "t1", MessageID: id, Version: uint64(v)})
		}
		for v := range 2 {
			u.Rows = append(u.Rows, &model.ContactKeyRow{Tenant: "t1", KeyType: "bsuid", KeyValue: "US." + id, Version: uint64(v)})
		}
		batch = append(batch, u)
	}
	b.ReportAllocs()
	for b.Loop() {
		group(batch)
	}
}
