package schemas

import "embed"

// Migrations holds the ClickHouse migrations, migrations/NNN_name.sql: applied in NNN order, each one
// idempotent (CREATE ... IF NOT EXISTS), with {database} standing for the target database. Files are never
// edited once released; a schema change is a new file. sinks/clickhouse.Migrate applies and records them.
//
//go:embed migrations/*.sql
var Migrations embed.FS
