package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Erasure (wapipe forget, contract section 11) empties a person's phone, username and
// profile name in every table while every row stays, so counts do not change. Every
// version of a row is rewritten, not only the newest, so the data is gone with or without
// FINAL. ALTER TABLE ... UPDATE (a mutation) is the one way that works on 18.16 and on
// current servers: lightweight UPDATE needs table settings (block number columns) these
// tables were not created with. A key column cannot be updated, so the contact_keys rows
// whose key is the phone or username are deleted, by a lightweight DELETE where the server
// has it (23.3 and later) and a mutation before.

// ErasedTable is what Erase changed in one table.
type ErasedTable struct {
	Table string
	// Rows counts the table's logical rows (keys) that held personal data: emptied, or for
	// contact_keys deleted.
	Rows    uint64
	Deleted bool
}

// erasedTables are the assignments (or, for contact_keys, the rows to delete) and the
// "holds personal data" test of each table, with the key its rows are counted by.
var erasedTables = []struct {
	table, key, set, holds string
	delete                 bool
}{
	{table: "chat_report", key: "message_id", set: reportSet, holds: reportHolds},
	{table: "package_usage_report", key: "message_id", set: reportSet, holds: reportHolds},
	{table: "voice_report", key: "call_id", set: reportSet, holds: reportHolds},
	{table: "leads", key: "(contact_id, ad_source_id)", set: reportSet, holds: reportHolds},
	{table: "identities", key: "contact_id", set: "phone = NULL, username = NULL, profile_name = NULL, phone_source = ''",
		holds: "phone IS NOT NULL OR username IS NOT NULL OR profile_name IS NOT NULL OR phone_source != ''"},
	{table: "contact_keys", key: "(key_type, key_value)", holds: "key_type IN ('phone', 'username')", delete: true},
}

const (
	reportSet   = "phone = NULL, phone_source = '', username = '', profile_name = ''"
	reportHolds = "phone IS NOT NULL OR phone_source != '' OR username != '' OR profile_name != ''"
)

// mutationWait bounds the wait for ClickHouse to apply the mutations.
const mutationWait = 10 * time.Minute

// Erase erases the personal data of the contacts (one person: a survivor and the contacts
// merged into it) of tenant from every table, waits until ClickHouse has applied it, and
// returns what it changed, table by table. Running it again changes nothing.
func (c *Client) Erase(ctx context.Context, tenant string, contactIDs []string) ([]ErasedTable, error) {
	return c.erase(ctx, tenant, contactIDs, true)
}

// EraseLater is Erase without the wait: ClickHouse applies the mutations in the background
// (they survive a restart of the server). A worker calls it after applying an erasure, so
// that its pipeline does not stop for as long as a mutation of a large table takes.
func (c *Client) EraseLater(ctx context.Context, tenant string, contactIDs []string) ([]ErasedTable, error) {
	return c.erase(ctx, tenant, contactIDs, false)
}

func (c *Client) erase(ctx context.Context, tenant string, contactIDs []string, wait bool) ([]ErasedTable, error) {
	held, err := c.Personal(ctx, tenant, contactIDs)
	if err != nil {
		return held, err
	}
	light, err := c.hasLightweightDelete(ctx)
	if err != nil {
		return nil, err
	}
	where, args := personWhere(tenant, contactIDs)
	for i, t := range erasedTables {
		if held[i].Rows == 0 {
			continue
		}
		// On a cluster the rows are in <table>_local on every server: a mutation of the
		// Distributed plain name is refused, so it runs there, ON CLUSTER.
		target, onCluster := t.table, ""
		if c.layout.Cluster != "" {
			target, onCluster = t.table+LocalSuffix, " ON CLUSTER "+c.layout.Cluster
		}
		q := fmt.Sprintf("ALTER TABLE %s.%s%s UPDATE %s WHERE %s", c.db, target, onCluster, t.set, where)
		switch {
		case t.delete && light:
			q = fmt.Sprintf("DELETE FROM %s.%s%s WHERE %s AND %s", c.db, target, onCluster, where, t.holds)
		case t.delete:
			q = fmt.Sprintf("ALTER TABLE %s.%s%s DELETE WHERE %s AND %s", c.db, target, onCluster, where, t.holds)
		}
		if err := c.mutate(ctx, target, q, args, wait); err != nil {
			return held, err
		}
	}
	return held, nil
}

// Personal counts, table by table, the rows of the contacts that hold personal data (for
// contact_keys: their phone and username keys): what Erase changes, and after it nothing.
func (c *Client) Personal(ctx context.Context, tenant string, contactIDs []string) ([]ErasedTable, error) {
	if tenant == "" || len(contactIDs) == 0 {
		return nil, errors.New("clickhouse: erase: a tenant and at least one contact id are required")
	}
	where, args := personWhere(tenant, contactIDs)
	out := make([]ErasedTable, 0, len(erasedTables))
	for _, t := range erasedTables {
		n, err := c.count(ctx, t.table, t.key, where+" AND ("+t.holds+")", args)
		if err != nil {
			return nil, err
		}
		out = append(out, ErasedTable{Table: t.table, Rows: n, Deleted: t.delete})
	}
	return out, nil
}

// personWhere selects the rows of the contacts; 18.16 rejects an array bound into IN, so
// each id has its placeholder.
func personWhere(tenant string, contactIDs []string) (string, []any) {
	where := "tenant_id = ? AND contact_id IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(contactIDs)), ", ") + ")"
	return where, append([]any{tenant}, anys(contactIDs)...)
}

// count returns how many distinct keys of table have rows matching where.
func (c *Client) count(ctx context.Context, table, key, where string, args []any) (uint64, error) {
	var n uint64
	q := fmt.Sprintf("SELECT uniqExact(%s) FROM %s.%s WHERE %s", key, c.db, table, where)
	if err := c.conn.QueryRow(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("clickhouse: erase: count %s: %w", table, err)
	}
	return n, nil
}

// mutate runs a mutation and, with wait, waits until the table has none left to do: 18.16
// applies mutations in the background and has no mutations_sync.
func (c *Client) mutate(ctx context.Context, table, q string, args []any, wait bool) error {
	if err := c.conn.Exec(ctx, q, args...); err != nil {
		return fmt.Errorf("clickhouse: erase: %s: %w", table, err)
	}
	if !wait {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, mutationWait)
	defer cancel()
	for pause := 20 * time.Millisecond; ; pause = min(2*pause, time.Second) {
		var pending uint64
		mutations := "system.mutations"
		if c.layout.Cluster != "" {
			mutations = fmt.Sprintf("cluster('%s', system.mutations)", c.layout.Cluster) // every server's
		}
		err := c.conn.QueryRow(ctx, `SELECT count() FROM `+mutations+` WHERE database = ? AND table = ? AND is_done = 0`,
			c.db, table).Scan(&pending)
		if err != nil {
			return fmt.Errorf("clickhouse: erase: wait for the mutation of %s: %w", table, err)
		}
		if pending == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("clickhouse: erase: the mutation of %s is not done after %s (system.mutations): %w", table, mutationWait, ctx.Err())
		case <-time.After(pause):
		}
	}
}

// hasLightweightDelete says whether the server runs DELETE FROM (GA in 23.3).
func (c *Client) hasLightweightDelete(ctx context.Context) (bool, error) {
	var v string
	if err := c.conn.QueryRow(ctx, "SELECT version()").Scan(&v); err != nil {
		return false, fmt.Errorf("clickhouse: server version: %w", err)
	}
	var major, minor int
	if _, err := fmt.Sscanf(v, "%d.%d", &major, &minor); err != nil {
		return false, nil // an unknown form: the mutation works everywhere
	}
	return major > 23 || major == 23 && minor >= 3, nil
}

func anys(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
