package e2e

import (
	"context"
	"testing"

	"github.com/wapipe/wapipe/model"
)

// One convention for an unknown value in every table (docs/queries.md, "Unknown values"): NULL
// in a Nullable column, never ”; ” in a String column. Checked on what the story stores:
// Mateo never shared his phone, Valentina's first message had no BSUID, most messages came
// before the ad, and nobody has a parent BSUID.
func TestUnknownValuesAreNullInNullableColumns(t *testing.T) {
	e := replayStory(t)
	rows, err := e.conn.Query(context.Background(),
		"SELECT table, name FROM system.columns WHERE database = ? AND type = 'Nullable(String)' ORDER BY table, name", e.database)
	if err != nil {
		t.Fatal(err)
	}
	tables := map[string]bool{}
	for _, t := range model.Tables {
		tables[t] = true
	}
	var cols [][2]string
	for rows.Next() {
		var table, name string
		if err := rows.Scan(&table, &name); err != nil {
			t.Fatal(err)
		}
		if tables[table] {
			cols = append(cols, [2]string{table, name})
		}
	}
	rows.Close()
	if len(cols) < 12 {
		t.Fatalf("found only %d Nullable(String) columns: %v", len(cols), cols)
	}
	for _, c := range cols {
		if n := e.count("SELECT count() FROM $db." + c[0] + " WHERE " + c[1] + " = ''"); n != 0 {
			t.Errorf("%s.%s holds '' in %d rows: an unknown value must be NULL there", c[0], c[1], n)
		}
	}
	for _, c := range []struct {
		what, query string
		want        int64
	}{
		{"Mateo's message: no phone, no phone_source",
			"SELECT count() FROM $db.chat_report FINAL WHERE phone IS NULL AND phone_source = ''", 1},
		{"Mateo's contact: no phone", "SELECT count() FROM $db.identities FINAL WHERE merged_into = '' AND phone IS NULL AND phone_source = ''", 1},
		{"Valentina's phone-only message: bsuid ''", "SELECT count() FROM $db.chat_report FINAL WHERE bsuid = ''", 1},
		{"Valentina's three messages before the ad: NULL ad_source_id and ctwa_clid",
			"SELECT count() FROM $db.chat_report FINAL WHERE ad_source_id IS NULL AND ctwa_clid IS NULL", 3},
		{"no contact has a parent BSUID: NULL on every identities row",
			"SELECT count() FROM $db.identities FINAL WHERE parent_bsuid IS NOT NULL", 0},
	} {
		if got := e.count(c.query); got != c.want {
			t.Errorf("%s: %s = %d, want %d", c.what, c.query, got, c.want)
		}
	}
}
