package clickhouse

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wapipe/wapipe/model"
)

func TestMigrateIsIdempotentAndRecorded(t *testing.T) {
	c, _ := testClient(t)
	all, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range all {
		names = append(names, m.Name)
	}
	applied, err := c.Migrate(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(applied, names) {
		t.Fatalf("first run applied %v, want %v", applied, names)
	}
	if applied, err = c.Migrate(t.Context()); err != nil || len(applied) != 0 {
		t.Fatalf("second run applied %v, err %v; want nothing", applied, err)
	}
	rows, err := c.Conn().Query(t.Context(), fmt.Sprintf(
		"SELECT version, any(name), count() FROM %s.schema_migrations GROUP BY version ORDER BY version", c.Database()))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var v uint32
		var name string
		var n uint64
		if err := rows.Scan(&v, &name, &n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("version %d recorded %d times", v, n)
		}
		got = append(got, name)
	}
	if !slices.Equal(got, names) {
		t.Errorf("recorded %v, want %v", got, names)
	}
}

// Every replica runs migrate at start; at the same moment on a new database they race on every CREATE.
func TestMigrateConcurrently(t *testing.T) {
	c, _ := testClient(t)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		// A client each, as separate replicas have: no shared pool to serialise them.
		replica, err := Open(t.Context(), Config{Addrs: []string{testAddr(t)}, Database: c.Database()})
		if err != nil {
			t.Fatal(err)
		}
		defer replica.Close()
		wg.Go(func() { _, errs[i] = replica.Migrate(t.Context()) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	done, err := appliedVersions(t.Context(), c.Conn(), c.Database())
	if err != nil {
		t.Fatal(err)
	}
	all, _ := Migrations()
	if len(done) != len(all) {
		t.Errorf("recorded versions %v, want %d of them", done, len(all))
	}
	if applied, err := c.Migrate(t.Context()); err != nil || len(applied) != 0 {
		t.Fatalf("after the race applied %v, err %v; want nothing", applied, err)
	}
}

// The sink writes model.Columns by name; the tables must have exactly those columns, with the types of
// contract section 3 for the ones the contract pins down.
func TestTablesMatchModel(t *testing.T) {
	c, _ := migrated(t)
	for _, table := range model.Tables {
		rows, err := c.Conn().Query(t.Context(),
			"SELECT name, type FROM system.columns WHERE database = ? AND table = ? ORDER BY name", c.Database(), table)
		if err != nil {
			t.Fatal(err)
		}
		types := map[string]string{}
		var names []string
		for rows.Next() {
			var name, typ string
			if err := rows.Scan(&name, &typ); err != nil {
				t.Fatal(err)
			}
			types[name] = typ
			names = append(names, name)
		}
		rows.Close()
		want := slices.Sorted(slices.Values(model.Columns(table)))
		if !slices.Equal(names, want) {
			t.Errorf("%s has columns %v, want %v", table, names, want)
		}
		if types["version"] != "UInt64" || types["tenant_id"] != "String" {
			t.Errorf("%s: version %s, tenant_id %s", table, types["version"], types["tenant_id"])
		}
		if typ, ok := types["phone"]; ok && typ != "Nullable(String)" {
			t.Errorf("%s.phone is %s, want Nullable(String)", table, typ)
		}
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

func TestLoadMigrations(t *testing.T) {
	all, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < len(model.Tables) {
		t.Errorf("%d migrations, want at least one per table (%d)", len(all), len(model.Tables))
	}
	for i, m := range all {
		if i > 0 && m.Version <= all[i-1].Version {
			t.Errorf("%s is out of order", m.Name)
		}
		for _, s := range m.Statements {
			for _, banned := range []string{"LowCardinality", "Map(", "DateTime64", " TTL "} {
				if containsFold(s, banned) {
					t.Errorf("%s uses %s, which ClickHouse 18.16 lacks", m.Name, banned)
				}
			}
		}
	}
}
