package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// A swap migration (NNN_swap_name.sql) changes what DDL cannot change in place, such as a table's
// partitioning: each of its statements is a CREATE TABLE of a table that replaces the existing one of the
// same name, with the same columns or more (a new column has a DEFAULT, so the rows copied get it).
//
// On one server the swap creates the new table as <table>__next, copies the old table's rows into it
// (FINAL: one row per key, the latest version), renames old to <table>__old and next to <table> in one
// RENAME, copies again if the old table was written meanwhile (a worker of the previous version), checks
// that the new table has at least as many keys as the old one, and drops the old one. A lock table
// (<table>__migrating) keeps two migrators (every worker migrates at start) from swapping one table at
// once; a swap that died half way is resumed by the next run.
//
// On a cluster the tables are those migrate --cluster created, which only this version does: a swap
// there recreates empty tables and refuses a table that has rows.

const (
	nextSuffix = "__next"
	oldSuffix  = "__old"
	lockSuffix = "__migrating"
	// lockWait bounds how long a migrator waits for another one's swap (a copy of a large table).
	lockWait = 30 * time.Minute
)

func (m Migration) swaps() bool {
	_, name, _ := strings.Cut(m.Name, "_")
	return strings.HasPrefix(name, "swap_")
}

// swapTable applies one statement of a swap migration.
func swapTable(ctx context.Context, conn driver.Conn, layout Layout, database, stmt string) error {
	m := createTableRe.FindStringSubmatch(stmt)
	if m == nil {
		return fmt.Errorf("clickhouse: a swap migration holds CREATE TABLE statements only, not %.60q", stmt)
	}
	table := m[1]
	if layout.Cluster != "" {
		return swapOnCluster(ctx, conn, layout, database, table, stmt)
	}
	unlock, err := lockTable(ctx, conn, database, table)
	if err != nil {
		return err
	}
	defer unlock()
	return swapOnServer(ctx, conn, database, table, stmt)
}

func swapOnServer(ctx context.Context, conn driver.Conn, database, table, stmt string) error {
	db := func(t string) string { return database + "." + t }
	want := wantedPartitionKey(stmt)
	key, err := partitionKey(ctx, conn, database, table)
	if err != nil {
		return err
	}
	copied := int64(-1) // raw rows of the old table when it was copied; -1: not copied by this run
	if key != want {
		next := strings.Replace(stmt, "{database}."+table, db(table+nextSuffix), 1)
		if err := execDDL(ctx, conn, "DROP TABLE IF EXISTS "+db(table+nextSuffix)); err != nil {
			return err
		}
		if err := execDDL(ctx, conn, strings.ReplaceAll(next, "{database}", database)); err != nil {
			return err
		}
		if copied, err = copyRows(ctx, conn, database, table, table+nextSuffix); err != nil {
			return err
		}
		if err := execDDL(ctx, conn, fmt.Sprintf("RENAME TABLE %s TO %s, %s TO %s",
			db(table), db(table+oldSuffix), db(table+nextSuffix), db(table))); err != nil {
			return err
		}
	}
	if ok, err := exists(ctx, conn, database, table+oldSuffix); err != nil || !ok {
		return err
	}
	// Rows a worker wrote to the old table between the copy and the RENAME (or a run that died after the
	// RENAME): copy again. The rows copied twice are the same rows with the same versions.
	if n, err := count(ctx, conn, "SELECT count() FROM "+db(table+oldSuffix)); err != nil {
		return err
	} else if n != copied {
		if _, err := copyRows(ctx, conn, database, table+oldSuffix, table); err != nil {
			return err
		}
	}
	oldKeys, err := count(ctx, conn, fmt.Sprintf("SELECT count() FROM %s FINAL", db(table+oldSuffix)))
	if err != nil {
		return err
	}
	newKeys, err := count(ctx, conn, fmt.Sprintf("SELECT count() FROM %s FINAL", db(table)))
	if err != nil {
		return err
	}
	if newKeys < oldKeys {
		return fmt.Errorf("clickhouse: %s has %d rows after the swap, %s had %d: kept %s",
			db(table), newKeys, db(table+oldSuffix), oldKeys, db(table+oldSuffix))
	}
	if err := execDDL(ctx, conn, "DROP TABLE "+db(table+oldSuffix)); err != nil {
		return fmt.Errorf("clickhouse: %s holds every row; dropping the old %s failed (a server's "+
			"max_table_size_to_drop?): %w", db(table), db(table+oldSuffix), err)
	}
	return nil
}

// copyRows inserts the latest version of every row of from into to, naming from's columns (to may have
// more, which take their DEFAULT), and returns how many raw rows from had just before.
func copyRows(ctx context.Context, conn driver.Conn, database, from, to string) (int64, error) {
	cols, err := columns(ctx, conn, database, from)
	if err != nil {
		return 0, err
	}
	n, err := count(ctx, conn, fmt.Sprintf("SELECT count() FROM %s.%s", database, from))
	if err != nil {
		return 0, err
	}
	list := strings.Join(cols, ", ")
	return n, execDDL(ctx, conn, fmt.Sprintf("INSERT INTO %s.%s (%s) SELECT %s FROM %s.%s FINAL",
		database, to, list, list, database, from))
}

// swapOnCluster recreates an empty table of the cluster layout with the migration's definition.
func swapOnCluster(ctx context.Context, conn driver.Conn, layout Layout, database, table, stmt string) error {
	key, err := partitionKey(ctx, conn, database, table+LocalSuffix)
	if err != nil || key == wantedPartitionKey(stmt) {
		return err
	}
	n, err := count(ctx, conn, fmt.Sprintf("SELECT count() FROM %s.%s", database, table))
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("clickhouse: %s.%s on cluster %s has %d rows and the layout of an earlier version: "+
			"a cluster's tables are swapped only while empty", database, table, layout.Cluster, n)
	}
	for _, t := range []string{table, table + LocalSuffix} {
		if err := execDDL(ctx, conn, fmt.Sprintf("DROP TABLE IF EXISTS %s.%s ON CLUSTER %s", database, t, layout.Cluster)); err != nil {
			return err
		}
	}
	return execAll(ctx, conn, layout, database, stmt)
}

// lockTable takes the swap lock of table: creating a table succeeds for one session only.
func lockTable(ctx context.Context, conn driver.Conn, database, table string) (unlock func(), err error) {
	lock := database + "." + table + lockSuffix
	deadline := time.Now().Add(lockWait)
	for {
		err := conn.Exec(ctx, "CREATE TABLE "+lock+" (taken_at DateTime) ENGINE = Memory")
		var exc *clickhouse.Exception
		if err == nil {
			return func() { _ = conn.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+lock) }, nil
		}
		if !errors.As(err, &exc) || !raceCodes[exc.Code] {
			return nil, fmt.Errorf("clickhouse: lock %s: %w", lock, err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("clickhouse: %s exists since %v: another migrate is swapping %s, "+
				"or one died doing it (then DROP TABLE %s)", lock, lockWait, table, lock)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// wantedPartitionKey is the partition key a CREATE TABLE asks for, as system.tables spells it.
func wantedPartitionKey(stmt string) string {
	_, rest, ok := strings.Cut(stmt, "PARTITION BY ")
	if !ok {
		return ""
	}
	key, _, _ := strings.Cut(rest, "\n")
	return strings.TrimSpace(key)
}

func partitionKey(ctx context.Context, conn driver.Conn, database, table string) (string, error) {
	var key string
	err := conn.QueryRow(ctx, "SELECT partition_key FROM system.tables WHERE database = ? AND name = ?",
		database, table).Scan(&key)
	if err != nil {
		return "", fmt.Errorf("clickhouse: partition key of %s.%s: %w", database, table, err)
	}
	return key, nil
}

func exists(ctx context.Context, conn driver.Conn, database, table string) (bool, error) {
	var n uint64
	err := conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name = ?", database, table).Scan(&n)
	return n > 0, err
}

func columns(ctx context.Context, conn driver.Conn, database, table string) ([]string, error) {
	rows, err := conn.Query(ctx, "SELECT name FROM system.columns WHERE database = ? AND table = ?", // in table order
		database, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 && rows.Err() == nil {
		return nil, fmt.Errorf("clickhouse: %s.%s has no columns (missing?)", database, table)
	}
	return out, rows.Err()
}

func count(ctx context.Context, conn driver.Conn, query string) (int64, error) {
	var n uint64
	if err := conn.QueryRow(ctx, query).Scan(&n); err != nil {
		return 0, err
	}
	return int64(n), nil
}
