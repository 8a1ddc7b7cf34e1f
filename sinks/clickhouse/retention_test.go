package clickhouse

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wapipe/wapipe/model"
)

// Prune drops the months that ended by the cutoff and nothing else: the rows of later months, identities
// and contact_keys stay; --dry-run drops nothing; a table not yet partitioned is refused.
func TestPruneDropsWholeOldMonthsOnly(t *testing.T) {
	c, _ := unpartitioned(t)
	if _, err := Prune(t.Context(), c.Conn(), c.Database(), Layout{}, time.Now(), true); err == nil ||
		!strings.Contains(err.Error(), "run wapipe migrate first") {
		t.Errorf("prune of unpartitioned tables: %v, want a refusal", err)
	}
	if _, err := c.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := c.Insert(t.Context(), "identities", oneOfEach()[4:5]); err != nil {
		t.Fatal(err)
	}
	if err := c.Insert(t.Context(), "contact_keys", oneOfEach()[5:6]); err != nil {
		t.Fatal(err)
	}
	counts := func() []int64 {
		var out []int64
		for _, table := range append(slices.Clone(ReportTables), "identities", "contact_keys") {
			n, err := count(t.Context(), c.Conn(), fmt.Sprintf("SELECT count() FROM %s.%s FINAL", c.Database(), table))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, n)
		}
		return out
	}
	all := counts()
	januaryEnd := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	cutoff := januaryEnd.Add(-time.Second)
	if dropped, err := c.Prune(t.Context(), cutoff, false); err != nil || len(dropped) != 0 {
		t.Errorf("prune before January's end dropped %v, %v", dropped, err)
	}
	cutoff = januaryEnd
	planned, err := c.Prune(t.Context(), cutoff, true)
	if err != nil || !slices.Equal(counts(), all) {
		t.Fatalf("dry run: %v; counts %v, want %v unchanged", err, counts(), all)
	}
	dropped, err := c.Prune(t.Context(), cutoff, false)
	if err != nil || !slices.Equal(dropped, planned) {
		t.Fatalf("dropped %v (%v), the dry run said %v", dropped, err, planned)
	}
	var months []string
	for _, p := range dropped {
		months = append(months, p.Table+"/"+p.Month)
	}
	want := []string{"chat_report/202601", "package_usage_report/202601", "voice_report/202601"}
	if !slices.Equal(months, want) {
		t.Errorf("dropped %v, want %v", months, want)
	}
	// Left: chat's 300 February messages, usage billed from Jan 30 12:00 hourly (36 in January of 100),
	// voice c1 (its latest event, Feb 1) but not c2 (Jan 30); identities and contact_keys whole.
	if got, want := counts(), []int64{300, 64, 1, all[3], all[4]}; !slices.Equal(got, want) {
		t.Errorf("rows after prune %v, want %v", got, want)
	}
	if again, err := c.Prune(t.Context(), cutoff, false); err != nil || len(again) != 0 {
		t.Errorf("a second prune dropped %v, %v", again, err)
	}
}

// On 18.16 --retention changes nothing and says why; the version test is what decides.
func TestRetentionWhereTheServerHasTTL(t *testing.T) {
	c, _ := migrated(t)
	version, applied, err := c.SetRetention(t.Context(), 90*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var ttl string
	q := fmt.Sprintf("SELECT create_table_query FROM system.tables WHERE database = '%s' AND name = 'chat_report'", c.Database())
	if err := c.Conn().QueryRow(t.Context(), q).Scan(&ttl); err != nil {
		t.Fatal(err)
	}
	hasTTL := strings.Contains(ttl, "TTL "+model.FirstEventColumn+" + toIntervalSecond(7776000)")
	if applied != hasTableTTL(version) || hasTTL != applied {
		t.Errorf("ClickHouse %s: applied %v, TTL in the table %v:\n%s", version, applied, hasTTL, ttl)
	}
	for v, want := range map[string]bool{"18.16.1": false, "19.5.3.8": false, "19.6.2.11": true, "24.8.4.13": true, "x": false} {
		if hasTableTTL(v) != want {
			t.Errorf("hasTableTTL(%q) = %v", v, !want)
		}
	}
}
