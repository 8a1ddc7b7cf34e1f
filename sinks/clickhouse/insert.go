package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/wapipe/wapipe/model"
)

// Rejected is a row the table refused, with the reason, for the dead-letter path.
type Rejected struct {
	Row    model.Row
	Reason string
}

// insertQuery names every column: 18.16 rejects a bare INSERT INTO t from clickhouse-go, and naming them
// keeps inserts working when a later migration adds a column with a default.
func (c *Client) insertQuery(table string) (string, error) {
	cols := model.Columns(table)
	if cols == nil {
		return "", fmt.Errorf("%w %q", ErrUnknownTable, table)
	}
	return fmt.Sprintf("INSERT INTO %s.%s (%s)", c.db, table, strings.Join(cols, ", ")), nil
}

// values checks that r belongs to table, has one value per column and that its times fit a DateTime,
// and returns its values. clickhouse-go wraps a time outside 1970..2106 around silently (a timestamp in
// milliseconds would land in some other year), so such a row is refused here instead.
func values(table string, r model.Row, cols []string) ([]any, error) {
	if r.Table() != table {
		return nil, fmt.Errorf("row of table %s in an insert into %s", r.Table(), table)
	}
	v := r.Values()
	if len(v) != len(cols) {
		return nil, fmt.Errorf("%d values for %d columns of %s", len(v), len(cols), table)
	}
	for i, x := range v {
		// DateTime values are *int64 Unix seconds (model.Row); no other column takes an *int64.
		if sec, ok := x.(*int64); ok && sec != nil && (*sec < 0 || *sec > math.MaxUint32) {
			return nil, fmt.Errorf("column %s: %s is outside DateTime's range", cols[i],
				time.Unix(*sec, 0).UTC().Format(time.RFC3339))
		}
	}
	return v, nil
}

// rowValues checks and returns the values of every row, before anything is prepared: their string
// sizes size the batch's columns. A row that fails its check is a *RowError.
func rowValues(table string, rows []model.Row, cols []string) ([][]any, error) {
	vals := make([][]any, len(rows))
	for i, r := range rows {
		v, err := values(table, r, cols)
		if err != nil {
			return nil, &RowError{Index: i, Err: err}
		}
		vals[i] = v
	}
	return vals, nil
}

// Insert writes rows, all of table, in one INSERT. It prepares a new batch on every call because a batch
// that failed to send cannot be sent again. A row that cannot be encoded fails the call with a *RowError.
func (c *Client) Insert(ctx context.Context, table string, rows []model.Row) (err error) {
	if len(rows) == 0 {
		return nil
	}
	start := time.Now()
	defer func() { c.metrics.observe(table, len(rows), start, err) }()
	query, err := c.insertQuery(table)
	if err != nil {
		return err
	}
	cols := model.Columns(table)
	vals, err := rowValues(table, rows, cols)
	if err != nil {
		return err
	}
	batch, err := c.prepareSized(ctx, query, stringSizes(cols, vals))
	if err != nil {
		return err
	}
	// Releases the connection when we stop early; a no-op after Send.
	defer func() { _ = batch.Abort() }()
	for i, v := range vals {
		if err := batch.Append(v...); err != nil {
			return &RowError{Index: i, Err: err}
		}
	}
	return batch.Send()
}

// InsertSplitting inserts rows like Insert, and when the table rejects some of them it isolates those and
// inserts the others: rows the client cannot encode are found in one pass, and a rejection by the server is
// narrowed down by bisecting the batch. With a nil error every row either landed or is in rejected.
//
// A transient error is returned as is and no rows are reported: the caller retries the whole call after a
// backoff. Rows that landed before the error are then written again, which the tables absorb.
func (c *Client) InsertSplitting(ctx context.Context, table string, rows []model.Row) ([]Rejected, error) {
	err := c.Insert(ctx, table, rows)
	if err == nil || IsTransient(err) || errors.Is(err, ErrUnknownTable) {
		return nil, err
	}
	var rejected []Rejected
	good := rows
	var rowErr *RowError
	if errors.As(err, &rowErr) {
		if good, rejected, err = c.screen(ctx, table, rows); err != nil {
			return nil, err
		}
	}
	insert := func(rows []model.Row) error { return c.Insert(ctx, table, rows) }
	if err := bisect(good, insert, &rejected); err != nil {
		return nil, err
	}
	c.metrics.rejected.WithLabelValues(table).Add(float64(len(rejected)))
	return rejected, nil
}

// screen encodes every row into the table's columns without sending anything and sorts the rows into those
// that encode and those that do not. The column types come from the server (a prepared, then abandoned,
// batch), so the check is exactly the one Insert's Append makes.
func (c *Client) screen(ctx context.Context, table string, rows []model.Row) ([]model.Row, []Rejected, error) {
	query, err := c.insertQuery(table)
	if err != nil {
		return nil, nil, err
	}
	batch, err := c.conn.PrepareBatch(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	cols := batch.Columns()
	_ = batch.Abort()
	good := make([]model.Row, 0, len(rows))
	var rejected []Rejected
	for _, r := range rows {
		if err := encode(table, r, cols); err != nil {
			rejected = append(rejected, Rejected{Row: r, Reason: err.Error()})
		} else {
			good = append(good, r)
		}
	}
	return good, rejected, nil
}

// encode appends one row to cols and resets them, which also clears a row that failed half way.
func encode(table string, r model.Row, cols []column.Interface) error {
	defer func() {
		for _, col := range cols {
			col.Reset()
		}
	}()
	v, err := values(table, r, model.Columns(table))
	if err != nil {
		return err
	}
	for i, col := range cols {
		if err := col.AppendRow(v[i]); err != nil {
			return fmt.Errorf("column %s (%s): %w", col.Name(), col.Type(), err)
		}
	}
	return nil
}

// bisect inserts rows, halving any part the server rejects until the rejected rows stand alone.
func bisect(rows []model.Row, insert func([]model.Row) error, rejected *[]Rejected) error {
	if len(rows) == 0 {
		return nil
	}
	err := insert(rows)
	switch {
	case err == nil:
		return nil
	case IsTransient(err):
		return err
	case len(rows) == 1:
		*rejected = append(*rejected, Rejected{Row: rows[0], Reason: err.Error()})
		return nil
	}
	mid := len(rows) / 2
	if err := bisect(rows[:mid], insert, rejected); err != nil {
		return err
	}
	return bisect(rows[mid:], insert, rejected)
}
