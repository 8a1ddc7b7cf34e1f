package clickhouse

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"
	dto "github.com/prometheus/client_model/go"
	"github.com/wapipe/wapipe/model"
)

func TestInsertReadsBackEveryTable(t *testing.T) {
	c, _ := migrated(t)
	for _, r := range oneOfEach() {
		if err := c.Insert(t.Context(), r.Table(), []model.Row{r}); err != nil {
			t.Fatalf("%s: %v", r.Table(), err)
		}
		got := readFinal(t, c, r.Table(), "tenant_id")
		want := plainAll(r.Values())
		if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
			t.Errorf("%s read back\n%#v\nwant\n%#v", r.Table(), got, want)
		}
	}
}

// ReplacingMergeTree keeps the highest version of a key, whatever order the versions arrive in.
func TestFinalKeepsHighestVersion(t *testing.T) {
	c, reg := migrated(t)
	read := chatRow(1, 9)
	read.Status = "read"
	delivered := chatRow(1, 8)
	delivered.Status = "delivered"
	for _, batch := range [][]model.Row{{chatRow(1, 7), chatRow(2, 1)}, {read}, {delivered}} {
		if err := c.Insert(t.Context(), "chat_report", batch); err != nil {
			t.Fatal(err)
		}
	}
	got := readFinal(t, c, "chat_report", "message_id")
	if len(got) != 2 {
		t.Fatalf("got %d rows after FINAL, want 2", len(got))
	}
	if want := plainAll(read.Values()); !reflect.DeepEqual(got[0], want) {
		t.Errorf("wamid.1 = %v, want %v", got[0], want)
	}
	if n := counter(t, reg, "wapipe_clickhouse_rows_inserted_total", "chat_report"); n != 4 {
		t.Errorf("rows_inserted_total = %v, want 4", n)
	}
}

// badRow is a chat_report row whose version is text, which no UInt64 column takes.
type badRow struct{ *model.ChatRow }

func (r badRow) Values() []any {
	v := r.ChatRow.Values()
	v[len(v)-1] = "not a number"
	return v
}

func TestInsertSplittingIsolatesRejectedRows(t *testing.T) {
	c, reg := migrated(t)
	var rows []model.Row
	for i := range 20 {
		rows = append(rows, chatRow(i, 1))
	}
	// A timestamp in milliseconds would wrap around to another year without the sink's range check.
	millis := chatRow(101, 1)
	millis.SentAt *= 1000
	bad := []model.Row{badRow{chatRow(100, 1)}, millis}
	rows = append(append([]model.Row{bad[0]}, rows[:10]...), append([]model.Row{bad[1]}, rows[10:]...)...)

	err := c.Insert(t.Context(), "chat_report", rows)
	if err == nil || IsTransient(err) {
		t.Fatalf("Insert with bad rows: %v, want a permanent error", err)
	}
	rejected, err := c.InsertSplitting(t.Context(), "chat_report", rows)
	if err != nil {
		t.Fatal(err)
	}
	if len(rejected) != 2 || rejected[0].Row != bad[0] || rejected[1].Row != bad[1] {
		t.Fatalf("rejected %v, want the two bad rows", rejected)
	}
	for i, col := range []string{"version", "sent_at"} {
		if !strings.Contains(rejected[i].Reason, col) {
			t.Errorf("reason %q does not name column %s", rejected[i].Reason, col)
		}
	}
	if got := readFinal(t, c, "chat_report", "message_id"); len(got) != 20 {
		t.Errorf("%d rows landed, want 20", len(got))
	}
	if n := counter(t, reg, "wapipe_clickhouse_rows_rejected_total", "chat_report"); n != 2 {
		t.Errorf("rows_rejected_total = %v, want 2", n)
	}
}

// bisect is also the path for rejections by the server, which the native protocol rarely produces; a
// fake insert that refuses any batch holding a marked row stands in for it.
func TestBisectIsolatesServerRejections(t *testing.T) {
	var rows []model.Row
	for i := range 37 {
		rows = append(rows, chatRow(i, 1))
	}
	isBad := func(r model.Row) bool { id := r.(*model.ChatRow).MessageID; return id == "wamid.3" || id == "wamid.30" }
	var landed, calls int
	insert := func(batch []model.Row) error {
		calls++
		for _, r := range batch {
			if isBad(r) {
				return &clickhouse.Exception{Code: 53, Message: "Type mismatch"} // TYPE_MISMATCH
			}
		}
		landed += len(batch)
		return nil
	}
	var rejected []Rejected
	if err := bisect(rows, insert, &rejected); err != nil {
		t.Fatal(err)
	}
	if len(rejected) != 2 || !isBad(rejected[0].Row) || !isBad(rejected[1].Row) || landed != 35 {
		t.Errorf("rejected %d, landed %d; want 2 and 35", len(rejected), landed)
	}
	if calls > 25 {
		t.Errorf("%d inserts to isolate 2 rows of 37", calls)
	}
}

func counter(t *testing.T, reg interface {
	Gather() ([]*dto.MetricFamily, error)
}, name, table string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "table" && l.GetValue() == table {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}
