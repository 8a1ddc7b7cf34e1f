package clickhouse

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// String columns sized before they are filled.
//
// clickhouse-go builds a new block for every INSERT, and ch-go's String columns grow by doubling as rows
// are appended: about twice the bytes a batch needs, re-copied on every growth, which made them a fifth of
// all the worker allocated (bench/RESULTS.md). clickhouse-go creates every String column through one
// process-wide hook that knows only the column's name (column.WithColStrProvider). Insert knows the exact
// sizes before it prepares its batch, so it publishes them for the duration of PrepareBatch, which is when
// the columns are made (from the server's header block).

// strSize is what one String column of an insert will hold.
type strSize struct{ bytes, rows int }

var (
	// sizedPrepare lets one insert at a time publish its sizes.
	sizedPrepare sync.Mutex
	// preparing holds the published sizes by column name, nil when no sized prepare runs. Columns made
	// meanwhile for anything else (a query's result) may get a sized buffer too: a wasted allocation at
	// worst, as every buffer is new and owned by the column it was made for.
	preparing atomic.Pointer[map[string]strSize]
)

func init() { column.WithColStrProvider(newColStr) }

func newColStr(name string) proto.ColStr {
	if m := preparing.Load(); m != nil {
		if s, ok := (*m)[name]; ok {
			return proto.ColStr{Buf: make([]byte, 0, s.bytes), Pos: make([]proto.Position, 0, s.rows)}
		}
	}
	return proto.ColStr{}
}

// prepareSized prepares an insert whose String columns start with room for sizes.
func (c *Client) prepareSized(ctx context.Context, query string, sizes map[string]strSize) (driver.Batch, error) {
	sizedPrepare.Lock()
	defer sizedPrepare.Unlock()
	preparing.Store(&sizes)
	defer preparing.Store(nil)
	return c.conn.PrepareBatch(ctx, query)
}

// stringSizes sums, for every column given *string values (String and Nullable(String): model.Row), the
// bytes and rows the insert will append to it. A NULL still takes a row of its base column.
func stringSizes(cols []string, vals [][]any) map[string]strSize {
	perCol := make([]strSize, len(cols))
	for _, v := range vals {
		for j, x := range v {
			if s, ok := x.(*string); ok {
				perCol[j].rows++
				if s != nil {
					perCol[j].bytes += len(*s)
				}
			}
		}
	}
	sizes := make(map[string]strSize, len(cols))
	for j, s := range perCol {
		if s.rows > 0 {
			sizes[cols[j]] = s
		}
	}
	return sizes
}
