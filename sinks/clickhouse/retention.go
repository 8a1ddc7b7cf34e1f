package clickhouse

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/wapipe/wapipe/model"
)

// ReportTables are the tables partitioned by month of first_event_at (migration 008): Prune and a
// retention TTL act on them only. identities and contact_keys (who a contact is) and leads (one row per
// contact and ad, counted over its whole life) are never pruned.
var ReportTables = []string{"chat_report", "package_usage_report", "voice_report"}

// reportPartitionKey is how system.tables spells the report tables' partition key.
const reportPartitionKey = "toYYYYMM(" + model.FirstEventColumn + ")"

// Partition is one month of one report table.
type Partition struct {
	Table string
	Month string // the partition id: YYYYMM
	Rows  uint64 // rows of its active parts (versions of a key counted apart until they merge)
}

var monthRe = regexp.MustCompile(`^[0-9]{6}$`)

// end is the first instant after the month.
func (p Partition) end() (time.Time, error) {
	if !monthRe.MatchString(p.Month) {
		return time.Time{}, fmt.Errorf("clickhouse: %s has partition %q, not a YYYYMM month", p.Table, p.Month)
	}
	y, _ := strconv.Atoi(p.Month[:4])
	m, _ := strconv.Atoi(p.Month[4:])
	return time.Date(y, time.Month(m)+1, 1, 0, 0, 0, 0, time.UTC), nil
}

// Prune drops every month of the report tables that ended at or before cutoff: all its rows have a
// first_event_at before cutoff. With dryRun it only lists them. It refuses tables not yet partitioned
// (run migrate first). On a cluster it drops the partitions of the local tables ON CLUSTER.
func Prune(ctx context.Context, conn driver.Conn, database string, layout Layout, cutoff time.Time, dryRun bool) ([]Partition, error) {
	layout, err := layout.check()
	if err != nil {
		return nil, err
	}
	var dropped []Partition
	for _, table := range ReportTables {
		parts, err := partitions(ctx, conn, database, layout, table)
		if err != nil {
			return dropped, err
		}
		for _, p := range parts {
			end, err := p.end()
			if err != nil {
				return dropped, err
			}
			if end.After(cutoff) {
				continue
			}
			if !dryRun {
				if err := execDDL(ctx, conn, layout.dropPartition(database, table, p.Month)); err != nil {
					return dropped, fmt.Errorf("clickhouse: drop %s.%s partition %s: %w", database, table, p.Month, err)
				}
			}
			dropped = append(dropped, p)
		}
	}
	return dropped, nil
}

// partitions lists the months of table, oldest first; on a cluster, of every shard (one replica each).
func partitions(ctx context.Context, conn driver.Conn, database string, layout Layout, table string) ([]Partition, error) {
	local, parts := table, "system.parts"
	if layout.Cluster != "" {
		local, parts = table+LocalSuffix, fmt.Sprintf("cluster('%s', system.parts)", layout.Cluster)
	}
	key, err := partitionKey(ctx, conn, database, local)
	if err != nil {
		return nil, err
	}
	if key != reportPartitionKey && layout.Cluster == "" {
		if onCluster, _ := exists(ctx, conn, database, table+LocalSuffix); onCluster {
			return nil, fmt.Errorf("clickhouse: %s.%s is a cluster's Distributed table: give the cluster (--cluster)", database, table)
		}
	}
	if key != reportPartitionKey {
		return nil, fmt.Errorf("clickhouse: %s.%s is partitioned by %q, not %s: run wapipe migrate first",
			database, local, key, reportPartitionKey)
	}
	rows, err := conn.Query(ctx, fmt.Sprintf(`SELECT partition, sum(rows) FROM %s
		WHERE database = ? AND table = ? AND active GROUP BY partition ORDER BY partition`, parts), database, local)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: partitions of %s.%s: %w", database, local, err)
	}
	defer rows.Close()
	var out []Partition
	for rows.Next() {
		p := Partition{Table: table}
		if err := rows.Scan(&p.Month, &p.Rows); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (l Layout) dropPartition(database, table, month string) string {
	if l.Cluster == "" {
		return fmt.Sprintf("ALTER TABLE %s.%s DROP PARTITION %s", database, table, month)
	}
	return fmt.Sprintf("ALTER TABLE %s.%s%s ON CLUSTER %s DROP PARTITION %s", database, table, LocalSuffix, l.Cluster, month)
}

// SetRetention gives the report tables a TTL: rows expire retention after their first_event_at. It
// returns the server's version and whether the server has table TTLs (19.6 and later); when it has not
// (18.16), it changes nothing and the caller should say so: wapipe prune does the same by hand.
func SetRetention(ctx context.Context, conn driver.Conn, database string, layout Layout, retention time.Duration) (version string, applied bool, err error) {
	if layout, err = layout.check(); err != nil {
		return "", false, err
	}
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		return "", false, fmt.Errorf("clickhouse: server version: %w", err)
	}
	if !hasTableTTL(version) {
		return version, false, nil
	}
	seconds := int64(retention / time.Second)
	if seconds <= 0 {
		return version, false, fmt.Errorf("clickhouse: retention %v: want at least a second", retention)
	}
	for _, table := range ReportTables {
		target := fmt.Sprintf("%s.%s", database, table)
		if layout.Cluster != "" {
			target = fmt.Sprintf("%s.%s%s ON CLUSTER %s", database, table, LocalSuffix, layout.Cluster)
		}
		if err := execDDL(ctx, conn, fmt.Sprintf("ALTER TABLE %s MODIFY TTL %s + INTERVAL %d SECOND",
			target, model.FirstEventColumn, seconds)); err != nil {
			return version, false, fmt.Errorf("clickhouse: TTL of %s: %w", target, err)
		}
	}
	return version, true, nil
}

var versionRe = regexp.MustCompile(`^([0-9]+)\.([0-9]+)`)

// hasTableTTL: table TTL came with ClickHouse 19.6.
func hasTableTTL(version string) bool {
	m := versionRe.FindStringSubmatch(version)
	if m == nil {
		return false
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return major > 19 || major == 19 && minor >= 6
}
