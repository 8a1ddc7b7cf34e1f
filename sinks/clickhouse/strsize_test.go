package clickhouse

import (
	"testing"

	"github.com/wapipe/wapipe/model"
)

// The sizes Insert publishes are exactly what its rows append: every String column made while they are
// published is filled without growing, and columns made at any other time start empty.
func TestStringColumnsAreSizedExactly(t *testing.T) {
	for table, rows := range benchRows(50) {
		cols := model.Columns(table)
		vals, err := rowValues(table, rows, cols)
		if err != nil {
			t.Fatal(err)
		}
		sizes := stringSizes(cols, vals)
		if len(sizes) == 0 {
			t.Fatalf("%s: no String column found", table)
		}
		preparing.Store(&sizes)
		for j, name := range cols {
			if _, isString := vals[0][j].(*string); !isString {
				continue
			}
			col := newColStr(name)
			bufCap, posCap := cap(col.Buf), cap(col.Pos)
			for _, v := range vals {
				if s := v[j].(*string); s != nil {
					col.Append(*s)
				} else {
					col.Append("") // what a Nullable column appends to its base for a NULL
				}
			}
			if cap(col.Buf) != bufCap || len(col.Buf) != bufCap || cap(col.Pos) != posCap || len(col.Pos) != posCap {
				t.Errorf("%s.%s: sized %d bytes and %d rows, filled %d bytes (cap %d) and %d rows (cap %d)",
					table, name, bufCap, posCap, len(col.Buf), cap(col.Buf), len(col.Pos), cap(col.Pos))
			}
		}
		preparing.Store(nil)
		if c := newColStr(cols[0]); cap(c.Buf) != 0 || cap(c.Pos) != 0 {
			t.Errorf("%s: a column made after the prepare got %d bytes of room", table, cap(c.Buf))
		}
	}
}
