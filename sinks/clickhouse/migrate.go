package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// migrationsDDL is the runner's own bookkeeping. ReplacingMergeTree on version folds the duplicate a race
// between replicas can record; readers GROUP BY version so they never see one before the merge.
const migrationsDDL = `CREATE TABLE IF NOT EXISTS {database}.schema_migrations
(
    version    UInt32,
    name       String,
    applied_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY version`

// Migrate creates database if it is missing, then applies the embedded migrations it has not recorded, in
// version order, recording each in database.schema_migrations. It returns the names of the migrations it
// applied (none when the schema is current; on error, those applied before it).
//
// Several replicas may run it at once: every statement is idempotent (IF NOT EXISTS), the errors a server
// may give while another session creates the same object are retried, and a version recorded twice is read
// once. conn may have any default database; statements name theirs.
func Migrate(ctx context.Context, conn driver.Conn, database string) (applied []string, err error) {
	return MigrateLayout(ctx, conn, database, Layout{})
}

// MigrateLayout is Migrate with the tables laid out as layout says (one server or a cluster). The
// bookkeeping table follows the same layout, so any server of a cluster reads what was applied.
func MigrateLayout(ctx context.Context, conn driver.Conn, database string, layout Layout) (applied []string, err error) {
	return migrateUpTo(ctx, conn, database, layout, math.MaxUint32)
}

// migrateUpTo applies the migrations up to version last: the tests build a database of an earlier
// version with it.
func migrateUpTo(ctx context.Context, conn driver.Conn, database string, layout Layout, last uint32) (applied []string, err error) {
	if !identRe.MatchString(database) {
		return nil, fmt.Errorf("clickhouse: database %q is not a plain identifier", database)
	}
	if layout, err = layout.check(); err != nil {
		return nil, err
	}
	migrations, err := Migrations()
	if err != nil {
		return nil, err
	}
	onCluster, err := laidOutOnCluster(ctx, conn, database)
	if err != nil {
		return nil, err
	}
	if onCluster == no && layout.Cluster != "" {
		return nil, fmt.Errorf("clickhouse: database %s is laid out on one server; --cluster %s lays out a new "+
			"database (copy the rows into one migrated with --cluster)", database, layout.Cluster)
	}
	if upToDate(ctx, conn, database, migrations, last) {
		// Nothing to run, not even the IF NOT EXISTS statements: ON CLUSTER they wait for every server
		// (distributed_ddl_task_timeout, 180 s), and a worker must start while a replica is down.
		return nil, nil
	}
	if onCluster == yes && layout.Cluster == "" {
		return nil, fmt.Errorf("clickhouse: database %s is laid out on a cluster (its tables are Distributed "+
			"over <table>_local): migrate it with --cluster", database)
	}
	if err := execDDL(ctx, conn, layout.createDatabase(database)); err != nil {
		return nil, fmt.Errorf("clickhouse: create database %s: %w", database, err)
	}
	if err := execAll(ctx, conn, layout, database, migrationsDDL); err != nil {
		return nil, fmt.Errorf("clickhouse: create %s.schema_migrations: %w", database, err)
	}
	done, err := appliedVersions(ctx, conn, database)
	if err != nil {
		return nil, err
	}
	for _, m := range migrations {
		if done[m.Version] || m.Version > last {
			continue
		}
		apply := execAll
		if m.swaps() {
			apply = swapTable
		}
		for _, stmt := range m.Statements {
			if err := apply(ctx, conn, layout, database, stmt); err != nil {
				return applied, fmt.Errorf("clickhouse: migration %s: %w", m.Name, err)
			}
		}
		if err := record(ctx, conn, database, m); err != nil {
			return applied, fmt.Errorf("clickhouse: record migration %s: %w", m.Name, err)
		}
		applied = append(applied, m.Name)
	}
	return applied, nil
}

type tristate int

const (
	unknown tristate = iota // a new database: no schema_migrations yet
	no
	yes
)

// laidOutOnCluster says whether database was migrated with a cluster layout: its bookkeeping table is
// Distributed over schema_migrations_local.
func laidOutOnCluster(ctx context.Context, conn driver.Conn, database string) (tristate, error) {
	migrated, err := exists(ctx, conn, database, "schema_migrations")
	if err != nil || !migrated {
		return unknown, err
	}
	local, err := exists(ctx, conn, database, "schema_migrations"+LocalSuffix)
	if err != nil {
		return unknown, err
	}
	if local {
		return yes, nil
	}
	return no, nil
}

// upToDate says whether database records every migration up to last. Any error reads as no: the full
// run then reports it.
func upToDate(ctx context.Context, conn driver.Conn, database string, migrations []Migration, last uint32) bool {
	if ok, err := exists(ctx, conn, database, "schema_migrations"); err != nil || !ok {
		return false
	}
	done, err := appliedVersions(ctx, conn, database)
	if err != nil {
		return false
	}
	for _, m := range migrations {
		if m.Version <= last && !done[m.Version] {
			return false
		}
	}
	return true
}

// execAll runs what stmt becomes in layout.
func execAll(ctx context.Context, conn driver.Conn, layout Layout, database, stmt string) error {
	stmts, err := layout.statements(stmt, database)
	if err != nil {
		return err
	}
	for _, s := range stmts {
		if err := execDDL(ctx, conn, s); err != nil {
			return err
		}
	}
	return nil
}

// raceCodes are what a server may answer to CREATE ... IF NOT EXISTS while another session creates the same
// object, where the existence check and the creation are not one step. A retry then finds the object and
// does nothing. (18.16 serialised the 8 concurrent migrators of TestMigrateConcurrently without them.)
var raceCodes = map[int32]bool{
	57:  true, // TABLE_ALREADY_EXISTS
	58:  true, // TABLE_METADATA_ALREADY_EXISTS
	82:  true, // DATABASE_ALREADY_EXISTS
	337: true, // DDL_GUARD_IS_ACTIVE ("is creating or attaching right now")
}

func execDDL(ctx context.Context, conn driver.Conn, stmt string) error {
	for attempt := 1; ; attempt++ {
		err := conn.Exec(ctx, stmt)
		var exc *clickhouse.Exception
		if err == nil || attempt == 10 || !errors.As(err, &exc) || !raceCodes[exc.Code] {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * 50 * time.Millisecond):
		}
	}
}

// appliedVersions reads the recorded migration versions of database.
func appliedVersions(ctx context.Context, conn driver.Conn, database string) (map[uint32]bool, error) {
	rows, err := conn.Query(ctx, fmt.Sprintf("SELECT version FROM %s.schema_migrations GROUP BY version", database))
	if err != nil {
		return nil, fmt.Errorf("clickhouse: read %s.schema_migrations: %w", database, err)
	}
	defer rows.Close()
	done := map[uint32]bool{}
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		done[v] = true
	}
	return done, rows.Err()
}

// record inserts m unless it is already there, which a replica migrating at the same time may have done.
func record(ctx context.Context, conn driver.Conn, database string, m Migration) error {
	var n uint64
	err := conn.QueryRow(ctx, fmt.Sprintf("SELECT count() FROM %s.schema_migrations WHERE version = %d",
		database, m.Version)).Scan(&n)
	if err != nil || n > 0 {
		return err
	}
	batch, err := conn.PrepareBatch(ctx,
		fmt.Sprintf("INSERT INTO %s.schema_migrations (version, name, applied_at)", database))
	if err != nil {
		return err
	}
	defer func() { _ = batch.Abort() }()
	if err := batch.Append(m.Version, m.Name, time.Now().UTC()); err != nil {
		return err
	}
	return batch.Send()
}
