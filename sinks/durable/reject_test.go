package durable

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/sinks/clickhouse"
	"github.com/wapipe/wapipe/sinks/deadletter"
	"github.com/wapipe/wapipe/unit"
)

// testSink is a sink over the private ClickHouse (a fresh, migrated database) and a kfake
// dead-letter topic.
func testSink(t *testing.T) (*Sink, *clickhouse.Client) {
	t.Helper()
	addr := os.Getenv("WAPIPE_TEST_CLICKHOUSE")
	if addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("WAPIPE_TEST_CLICKHOUSE is unset")
		}
		t.Skip("WAPIPE_TEST_CLICKHOUSE is unset: run scripts/clickhouse.sh start")
	}
	db := fmt.Sprintf("wapipe_test_%016x", rand.Uint64())
	ch, err := clickhouse.Open(t.Context(), clickhouse.Config{Addrs: []string{addr}, Database: db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = ch.Conn().Exec(ctx, "DROP DATABASE IF EXISTS "+db)
		_ = ch.Close()
	})
	if _, err := ch.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "dlq"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	dlq, err := deadletter.New(cluster.ListenAddrs(), "dlq", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dlq.Close() })
	return New(ch, dlq, slog.New(slog.DiscardHandler)), ch
}

func chatRow(id, status string, version uint64) *model.ChatRow {
	return &model.ChatRow{Tenant: "t1", WABA: "w1", PhoneNumberID: "p1", MessageID: id, Direction: "outbound",
		MessageType: "text", Status: status, SentAt: 1_760_000_000, StatusAt: 1_760_000_000 + int64(version),
		Who: model.Who{ContactID: "c1"}, Version: version}
}

// wrongType is a chat_report row whose version is text: the column conversion fails for
// this one value, whatever its neighbours hold.
type wrongType struct{ *model.ChatRow }

func (r wrongType) Values() []any {
	v := r.ChatRow.Values()
	v[len(v)-1] = "not a number"
	return v
}

func newUnit(offset int64, rows ...model.Row) *unit.Unit {
	return &unit.Unit{Rec: &unit.Record{Topic: "in", Offset: offset, Value: []byte("{}")}, Rows: rows}
}

// statuses reads each message's status after FINAL.
func statuses(t *testing.T, ch *clickhouse.Client) map[string]string {
	t.Helper()
	rows, err := ch.Conn().Query(t.Context(), "SELECT message_id, status FROM "+ch.Database()+".chat_report FINAL")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]string{}
	for rows.Next() {
		var id, status string
		if err := rows.Scan(&id, &status); err != nil {
			t.Fatal(err)
		}
		got[id] = status
	}
	return got
}

// When the row the batch keeps for a key (its highest version) is rejected, the units whose
// versions of that row it superseded are not acknowledged without their rows: the best
// version left is written, and only the units whose own rows were rejected are dead
// letters. One value that fails its column conversion rejects its own unit only.
func TestRejectedKeptRowDoesNotLoseTheVersionsItSuperseded(t *testing.T) {
	sink, ch := testSink(t)
	millis := chatRow("wamid.1", "read", 3)
	millis.StatusAt *= 1000 // a timestamp in milliseconds: outside DateTime, rejected
	sent := newUnit(1, chatRow("wamid.1", "sent", 1))
	delivered := newUnit(2, chatRow("wamid.1", "delivered", 2))
	read := newUnit(3, millis)
	badValue := newUnit(4, wrongType{chatRow("wamid.2", "sent", 1)})
	var good []*unit.Unit
	for i := range 20 {
		good = append(good, newUnit(int64(10+i), chatRow(fmt.Sprintf("wamid.%d", 100+i), "sent", 1)))
	}
	batch := append([]*unit.Unit{sent, read, delivered, badValue}, good...)

	if err := sink.Write(t.Context(), batch); err != nil {
		t.Fatal(err)
	}
	got := statuses(t, ch)
	if got["wamid.1"] != "delivered" {
		t.Errorf("wamid.1 reads %q, want delivered (the best version not rejected)", got["wamid.1"])
	}
	for _, u := range []*unit.Unit{sent, delivered} {
		if u.DeadLetter != nil {
			t.Errorf("unit %d dead-lettered (%s) though its row is good", u.Rec.Offset, u.DeadLetter.Reason)
		}
	}
	for _, u := range []*unit.Unit{read, badValue} {
		if u.DeadLetter == nil || u.DeadLetter.Stage != "sink" {
			t.Errorf("unit %d: dead letter %+v, want one from the sink", u.Rec.Offset, u.DeadLetter)
		}
	}
	for _, u := range good {
		if u.DeadLetter != nil {
			t.Errorf("good unit %d dead-lettered: %s", u.Rec.Offset, u.DeadLetter.Reason)
		}
	}
	if _, ok := got["wamid.2"]; ok || len(got) != 21 {
		t.Errorf("%d messages landed (wamid.2: %v), want the 20 good ones and wamid.1", len(got), ok)
	}
}
