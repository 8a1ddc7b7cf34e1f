package clickhouse

import (
	"fmt"
	"regexp"
	"strings"
)

// Layout says where Migrate puts the tables: on one server (the zero Layout), or on a cluster.
//
// On a cluster (contract 11) every statement runs ON CLUSTER; each table's rows live in <table>_local
// with the Replicated engine of its family (path <ZooKeeperPath>/{shard}/<database>/<table>_local,
// replica {replica}, both macros of each server's config), and the plain name is a Distributed table
// over them, sharded by cityHash64 of the table's ORDER BY key. All versions of one key land on one
// shard, so FINAL through the plain name, which each shard applies to its own rows, leaves one row per
// key. Workers and analysts use the plain names either way.
type Layout struct {
	Cluster       string // "" for one server
	ZooKeeperPath string // default "/clickhouse/tables"
}

// DefaultZooKeeperPath prefixes every replicated table's ZooKeeper path unless Layout says otherwise.
const DefaultZooKeeperPath = "/clickhouse/tables"

// LocalSuffix names the table that holds a Distributed table's rows on each server.
const LocalSuffix = "_local"

var zkPathRe = regexp.MustCompile(`^(/[A-Za-z0-9_.-]+)+$`)

func (l Layout) validate() error {
	_, err := l.check()
	return err
}

// check validates l and fills in the default ZooKeeper path.
func (l Layout) check() (Layout, error) {
	if l.Cluster == "" {
		return l, nil
	}
	if !identRe.MatchString(l.Cluster) {
		return l, fmt.Errorf("clickhouse: cluster %q is not a plain identifier", l.Cluster)
	}
	if l.ZooKeeperPath == "" {
		l.ZooKeeperPath = DefaultZooKeeperPath
	}
	l.ZooKeeperPath = strings.TrimSuffix(l.ZooKeeperPath, "/")
	if !zkPathRe.MatchString(l.ZooKeeperPath) {
		return l, fmt.Errorf("clickhouse: ZooKeeper path %q: want /a/b with letters, digits, _ . -", l.ZooKeeperPath)
	}
	return l, nil
}

var (
	createTableRe = regexp.MustCompile(`(?s)^CREATE TABLE IF NOT EXISTS \{database\}\.(\w+)\s*(\(.*\))\s*` +
		`ENGINE\s*=\s*(\w*MergeTree)(?:\(([^)]*)\))?\s+(.*)$`)
	orderByRe    = regexp.MustCompile(`(?s)ORDER BY\s+(\([^)]*\)|\w+)`)
	createViewRe = regexp.MustCompile(`(?s)^CREATE VIEW IF NOT EXISTS \{database\}\.(\w+)\s+(AS\s.*)$`)
	alterTableRe = regexp.MustCompile(`(?s)^ALTER TABLE \{database\}\.(\w+)\s+(.*)$`)
)

// statements returns what one single-server migration statement becomes in this layout, with
// {database} replaced. On a cluster it knows the statement shapes migrations use (CREATE TABLE ... ENGINE =
// *MergeTree, CREATE VIEW, ALTER TABLE) and refuses others, so a new migration of another shape fails
// the cluster tests instead of landing on one server only.
func (l Layout) statements(stmt, database string) ([]string, error) {
	if l.Cluster == "" {
		return []string{strings.ReplaceAll(stmt, "{database}", database)}, nil
	}
	var out []string
	switch {
	case createTableRe.MatchString(stmt):
		m := createTableRe.FindStringSubmatch(stmt)
		local, dist, err := l.table(database, m[1], m[2], m[3], m[4], m[5])
		if err != nil {
			return nil, err
		}
		out = []string{local, dist}
	case createViewRe.MatchString(stmt):
		m := createViewRe.FindStringSubmatch(stmt)
		out = []string{fmt.Sprintf("CREATE VIEW IF NOT EXISTS {database}.%s ON CLUSTER %s %s", m[1], l.Cluster, m[2])}
	case alterTableRe.MatchString(stmt):
		// The local tables change, then the Distributed one, whose columns must follow them.
		m := alterTableRe.FindStringSubmatch(stmt)
		out = []string{
			fmt.Sprintf("ALTER TABLE {database}.%s%s ON CLUSTER %s %s", m[1], LocalSuffix, l.Cluster, m[2]),
			fmt.Sprintf("ALTER TABLE {database}.%s ON CLUSTER %s %s", m[1], l.Cluster, m[2]),
		}
	default:
		return nil, fmt.Errorf("clickhouse: no cluster form for the statement %.60q", stmt)
	}
	for i := range out {
		out[i] = strings.ReplaceAll(out[i], "{database}", database)
	}
	return out, nil
}

// table returns the CREATE of table's replicated local table and of its Distributed table. {shard} and
// {replica} are left for each server to expand from its macros.
func (l Layout) table(database, table, columns, engine, args, rest string) (local, dist string, err error) {
	key := orderByRe.FindStringSubmatch(rest)
	if key == nil {
		return "", "", fmt.Errorf("clickhouse: table %s has no ORDER BY to shard by", table)
	}
	shardBy := "cityHash64" + key[1]
	if !strings.HasPrefix(key[1], "(") {
		shardBy = "cityHash64(" + key[1] + ")"
	}
	replicated := fmt.Sprintf("'%s/{shard}/%s/%s%s', '{replica}'", l.ZooKeeperPath, database, table, LocalSuffix)
	if args = strings.TrimSpace(args); args != "" {
		replicated += ", " + args
	}
	local = fmt.Sprintf("CREATE TABLE IF NOT EXISTS {database}.%s%s ON CLUSTER %s\n%s\nENGINE = Replicated%s(%s)\n%s",
		table, LocalSuffix, l.Cluster, columns, engine, replicated, rest)
	dist = fmt.Sprintf("CREATE TABLE IF NOT EXISTS {database}.%s ON CLUSTER %s AS {database}.%s%s\n"+
		"ENGINE = Distributed('%s', '%s', '%s%s', %s)", table, l.Cluster, table, LocalSuffix,
		l.Cluster, database, table, LocalSuffix, shardBy)
	return local, dist, nil
}

// createDatabase is the first statement of every migration run.
func (l Layout) createDatabase(database string) string {
	if l.Cluster == "" {
		return "CREATE DATABASE IF NOT EXISTS " + database
	}
	return fmt.Sprintf("CREATE DATABASE IF NOT EXISTS %s ON CLUSTER %s", database, l.Cluster)
}
