package clickhouse

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/wapipe/wapipe/model"
)

// benchClient opens a client on a fresh, migrated database of its own, dropped afterwards. The
// benchmarks need the server for the column types (a prepared batch), so without
// WAPIPE_TEST_CLICKHOUSE they skip, like the tests.
func benchClient(b *testing.B) *Client {
	b.Helper()
	addr := os.Getenv("WAPIPE_TEST_CLICKHOUSE")
	if addr == "" {
		b.Skip("WAPIPE_TEST_CLICKHOUSE is unset: run `scripts/clickhouse.sh start` first")
	}
	db := fmt.Sprintf("wapipe_bench_%016x", rand.Uint64())
	c, err := Open(context.Background(), Config{Addrs: []string{addr}, Database: db})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = c.Conn().Exec(ctx, "DROP DATABASE IF EXISTS "+db)
		_ = c.Close()
	})
	if _, err := c.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return c
}

// benchRows makes n distinct rows of r's table (message, call or contact ids differ).
func benchRows(n int) map[string][]model.Row {
	out := map[string][]model.Row{}
	for i := range n {
		for _, r := range oneOfEach() {
			switch x := r.(type) {
			case *model.ChatRow:
				x.MessageID = fmt.Sprintf("wamid.HBgLMTU1NTAxMDAwMDAVAgARGBI%024d", i)
			case *model.UsageRow:
				x.MessageID = fmt.Sprintf("wamid.HBgLMTU1NTAxMDAwMDAVAgARGBI%024d", i)
			case *model.VoiceRow:
				x.CallID = fmt.Sprintf("wacid.HBgLMTU1NTAxMDAwMDAVAgARGBI%024d", i)
			case *model.LeadRow:
				x.ContactID = fmt.Sprintf("c%d", i)
			case *model.IdentityRow:
				x.ContactID = fmt.Sprintf("c%d", i)
			case *model.ContactKeyRow:
				x.KeyValue = fmt.Sprintf("5730%08d", i)
			}
			out[r.Table()] = append(out[r.Table()], r)
		}
	}
	return out
}

// BenchmarkAppend is the client-side cost of one row: values() (the checks) and the driver's
// Append into its column buffers. A batch of 10000 rows is prepared outside the timer and
// aborted, never sent.
func BenchmarkAppend(b *testing.B) {
	c := benchClient(b)
	const per = 10_000
	rows := benchRows(per)
	for _, table := range model.Tables {
		b.Run(table, func(b *testing.B) {
			query, err := c.insertQuery(table)
			if err != nil {
				b.Fatal(err)
			}
			cols := model.Columns(table)
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; {
				b.StopTimer()
				batch, err := c.conn.PrepareBatch(context.Background(), query)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				for _, r := range rows[table][:min(per, b.N-done)] {
					v, err := values(table, r, cols)
					if err == nil {
						err = batch.Append(v...)
					}
					if err != nil {
						b.Fatal(err)
					}
					done++
				}
				b.StopTimer()
				_ = batch.Abort()
				b.StartTimer()
			}
		})
	}
}

// BenchmarkInsert is one whole Insert of 10000 rows (prepare, append, compress, send, the
// server's acknowledgement), reported per row. Its wall time includes ClickHouse's work.
func BenchmarkInsert(b *testing.B) {
	c := benchClient(b)
	const per = 10_000
	rows := benchRows(per)
	for _, table := range []string{"chat_report", "identities"} {
		b.Run(table, func(b *testing.B) {
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := c.Insert(context.Background(), table, rows[table]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*per), "ns/row")
		})
	}
}
