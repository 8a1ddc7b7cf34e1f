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

// erasedColumns are the assignments and the "holds personal data" test of each table.
var erasedColumns = []struct{ table, key, set, holds string }{
	{"chat_report", "message_id", reportSet, reportHolds},
	{"package_usage_report", "message_id", reportSet, reportHolds},
	{"voice_report", "call_id", reportSet, reportHolds},
	{"leads", "(contact_id, ad_source_id)", reportSet, reportHolds},
	{"identities", "contact_id", "phone = NULL, username = NULL, profile_name = NULL, phone_source = ''",
		"phone IS NOT NULL OR username IS NOT NULL OR profile_name IS NOT NULL OR phone_source != ''"},
}

const (
	reportSet   = "phone = NULL, phone_source = '', username = '', profile_name = ''"
	reportHolds = "phone IS NOT NULL OR phone_source != '' OR username != '' OR profile_name != ''"
	// personalKeys are the contact_keys rows that are personal data themselves.
	personalKeys = "key_type IN ('phone', 'username')"
)

// mutationWait bounds the wait for ClickHouse to apply the mutations.
const mutationWait = 10 * time.Minute

// Erase erases the personal data of the contacts (one person: a survivor and the contacts
// merged into it) of tenant from every table, waits until ClickHouse has applied it, and
// returns what it changed, table by table. Running it again changes nothing.
func (c *Client) Erase(ctx context.Context, tenant string, contactIDs []string) ([]ErasedTable, error) {
	if tenant == "" || len(contactIDs) == 0 {
		return nil, errors.New("clickhouse: erase: a tenant and at least one contact id are required")
	}
	// 18.16 rejects an array bound into IN: one placeholder per id.
	where := "tenant_id = ? AND contact_id IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(contactIDs)), ", ") + ")"
	args := append([]any{tenant}, anys(contactIDs)...)
	light, err := c.hasLightweightDelete(ctx)
	if err != nil {
		return nil, err
	}
	var out []ErasedTable
	for _, t := range erasedColumns {
		n, err := c.count(ctx, t.table, t.key, where+" AND ("+t.holds+")", args)
		if err != nil {
			return out, err
		}
		if n > 0 {
			q := fmt.Sprintf("ALTER TABLE %s.%s UPDATE %s WHERE %s", c.db, t.table, t.set, where)
			if err := c.mutate(ctx, t.table, q, args); err != nil {
				return out, err
			}
		}
		out = append(out, ErasedTable{Table: t.table, Rows: n})
	}
	keys := where + " AND " + personalKeys
	n, err := c.count(ctx, "contact_keys", "(key_type, key_value)", keys, args)
	if err != nil || n == 0 {
		return append(out, ErasedTable{Table: "contact_keys", Deleted: true}), err
	}
	q := fmt.Sprintf("ALTER TABLE %s.contact_keys DELETE WHERE %s", c.db, keys)
	if light {
		q = fmt.Sprintf("DELETE FROM %s.contact_keys WHERE %s", c.db, keys)
	}
	if err := c.mutate(ctx, "contact_keys", q, args); err != nil {
		return out, err
	}
	return append(out, ErasedTable{Table: "contact_keys", Rows: n, Deleted: true}), nil
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

// mutate runs a mutation and waits until the table has none left to do: 18.16 applies
// mutations in the background and has no mutations_sync.
func (c *Client) mutate(ctx context.Context, table, q string, args []any) error {
	if err := c.conn.Exec(ctx, q, args...); err != nil {
		return fmt.Errorf("clickhouse: erase: %s: %w", table, err)
	}
	ctx, cancel := context.WithTimeout(ctx, mutationWait)
	defer cancel()
	for wait := 20 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		var pending uint64
		err := c.conn.QueryRow(ctx, `SELECT count() FROM system.mutations WHERE database = ? AND table = ? AND is_done = 0`,
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
		case <-time.After(wait):
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
