package clickhouse

import (
	"fmt"
	"testing"

	"github.com/wapipe/wapipe/model"
)

// personRows are rows of every table for contact id: two versions of one chat row, and
// its phone, username and BSUID keys.
func personRows(id string, n int) []model.Row {
	w := who(n)
	w.ContactID = id
	chat1, chat2 := chatRow(n, 1), chatRow(n, 2)
	chat1.Who, chat2.Who = w, w
	rows := []model.Row{chat1, chat2}
	for _, r := range oneOfEach()[1:] {
		switch r := r.(type) {
		case *model.UsageRow:
			r.MessageID, r.Who = fmt.Sprintf("wamid.%d", n), w
		case *model.VoiceRow:
			r.CallID, r.Who = fmt.Sprintf("wacid.%d", n), w
		case *model.LeadRow:
			r.ContactID, r.Who = id, w
		case *model.IdentityRow:
			r.ContactID, r.Username = id, ptr("@ana")
		case *model.ContactKeyRow:
			r.ContactID, r.KeyValue = id, fmt.Sprintf("5730%d", n)
			rows = append(rows,
				&model.ContactKeyRow{Tenant: "t1", KeyType: "username", KeyValue: fmt.Sprintf("@ana%d", n), ContactID: id, FirstSeen: 1, LastSeen: 2, Version: 1},
				&model.ContactKeyRow{Tenant: "t1", KeyType: "bsuid", KeyValue: fmt.Sprintf("US.%d", n), ContactID: id, FirstSeen: 1, LastSeen: 2, Version: 1})
		}
		rows = append(rows, r)
	}
	return rows
}

func insertAll(t *testing.T, c *Client, rows []model.Row) {
	t.Helper()
	for _, r := range rows {
		if err := c.Insert(t.Context(), r.Table(), []model.Row{r}); err != nil {
			t.Fatal(err)
		}
	}
}

func countRows(t *testing.T, c *Client, table, final, where string) uint64 {
	t.Helper()
	var n uint64
	q := fmt.Sprintf("SELECT count() FROM %s.%s %s WHERE %s", c.Database(), table, final, where)
	if err := c.Conn().QueryRow(t.Context(), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// The person of contacts c1 (survivor) and c2 (merged into it) is erased; c3 is someone else.
// Every row stays (counts unchanged, with and without FINAL), no version of a row of theirs
// holds a phone, username or profile name any more, their phone and username keys are gone,
// their BSUID keys and c3's rows are untouched, and erasing again changes nothing.
func TestEraseEmptiesPersonalColumnsAndKeepsCounts(t *testing.T) {
	c, _ := migrated(t)
	insertAll(t, c, append(append(personRows("c1", 1), personRows("c2", 2)...), personRows("c3", 3)...))
	reports := []string{"chat_report", "package_usage_report", "voice_report", "leads", "identities"}
	before := map[string][2]uint64{}
	for _, table := range reports {
		before[table] = [2]uint64{countRows(t, c, table, "", "1"), countRows(t, c, table, "FINAL", "1")}
	}

	got, err := c.Erase(t.Context(), "t1", []string{"c1", "c2"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{"chat_report": 2, "package_usage_report": 2, "voice_report": 2, "leads": 2, "identities": 2, "contact_keys": 4}
	for _, e := range got {
		if e.Rows != want[e.Table] {
			t.Errorf("Erase changed %d rows of %s, want %d", e.Rows, e.Table, want[e.Table])
		}
	}
	if len(got) != len(want) {
		t.Errorf("Erase reported %d tables, want %d: %+v", len(got), len(want), got)
	}
	person := "contact_id IN ('c1', 'c2')"
	for _, table := range reports {
		if now := [2]uint64{countRows(t, c, table, "", "1"), countRows(t, c, table, "FINAL", "1")}; now != before[table] {
			t.Errorf("%s: rows (all, FINAL) %v after the erasure, %v before: counts must stay", table, now, before[table])
		}
		holds := "phone IS NOT NULL OR phone_source != '' OR username != '' OR profile_name != ''"
		if table == "identities" {
			holds = "phone IS NOT NULL OR username IS NOT NULL OR profile_name IS NOT NULL"
		}
		for _, final := range []string{"", "FINAL"} {
			if n := countRows(t, c, table, final, person+" AND ("+holds+")"); n != 0 {
				t.Errorf("%s %s: %d rows of the person still hold personal data", table, final, n)
			}
			if n := countRows(t, c, table, final, "contact_id = 'c3' AND ("+holds+")"); n == 0 {
				t.Errorf("%s %s: the other contact's rows were erased too", table, final)
			}
		}
	}
	if n := countRows(t, c, "contact_keys", "FINAL", person+" AND key_type IN ('phone', 'username')"); n != 0 {
		t.Errorf("contact_keys: %d phone/username keys of the person left", n)
	}
	if n := countRows(t, c, "contact_keys", "FINAL", person+" AND key_type = 'bsuid'"); n != 2 {
		t.Errorf("contact_keys: %d BSUID keys of the person, want 2 (the counts join on them)", n)
	}
	if n := countRows(t, c, "contact_keys", "FINAL", "contact_id = 'c3'"); n != 3 {
		t.Errorf("contact_keys: the other contact has %d keys, want 3", n)
	}

	again, err := c.Erase(t.Context(), "t1", []string{"c1", "c2"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range again {
		if e.Rows != 0 {
			t.Errorf("a second erasure changed %d rows of %s", e.Rows, e.Table)
		}
	}
}
