package clickhouse

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/wapipe/wapipe/model"
)

// testAddr is the private test server (scripts/clickhouse.sh). Without it the tests skip, except in CI,
// where a missing server must fail the build rather than pass it silently.
func testAddr(t *testing.T) string {
	t.Helper()
	addr := os.Getenv("WAPIPE_TEST_CLICKHOUSE")
	if addr == "" {
		msg := "WAPIPE_TEST_CLICKHOUSE is unset: run `scripts/clickhouse.sh start` and " +
			"WAPIPE_TEST_CLICKHOUSE=$(scripts/clickhouse.sh addr) go test ./sinks/clickhouse/"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return addr
}

// testClient opens a client on a fresh database of its own (not yet created), dropped when the test ends.
func testClient(t *testing.T) (*Client, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	db := fmt.Sprintf("wapipe_test_%016x", rand.Uint64())
	c, err := Open(t.Context(), Config{Addrs: []string{testAddr(t)}, Database: db, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(t.Context()); err != nil {
		t.Fatalf("ClickHouse at %s does not answer (scripts/clickhouse.sh start?): %v", testAddr(t), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.Conn().Exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
			t.Errorf("drop %s: %v", db, err)
		}
		_ = c.Close()
	})
	return c, reg
}

func migrated(t *testing.T) (*Client, *prometheus.Registry) {
	t.Helper()
	c, reg := testClient(t)
	if _, err := c.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return c, reg
}

func ptr[T any](v T) *T { return &v }

func who(n int) model.Who {
	return model.Who{ContactID: fmt.Sprintf("c%d", n), BSUID: "US.13491208655302741918", Username: "@ana",
		Phone: ptr("573015550199"), PhoneSource: "webhook", ProfileName: "Ana"}
}

func chatRow(n int, version uint64) *model.ChatRow {
	return &model.ChatRow{Tenant: "t1", WABA: "w1", PhoneNumberID: "p1", MessageID: fmt.Sprintf("wamid.%d", n),
		Direction: "outbound", MessageType: "text", Status: "sent", SentAt: 1_760_000_000, StatusAt: 1_760_000_100,
		ErrorCode: ptr(int32(131026)), AdSourceID: nil, CtwaClid: ptr("clid"), Who: who(n), Version: version}
}

// oneOfEach has a row of every table, with nil and non-nil optional values.
func oneOfEach() []model.Row {
	return []model.Row{
		chatRow(1, 7),
		&model.UsageRow{Tenant: "t1", WABA: "w1", PhoneNumberID: "p1", MessageID: "wamid.1", BilledAt: 1_760_000_000,
			PricingModel: "PMP", PricingType: "regular", Category: "marketing", Billable: ptr(uint8(1)),
			ConversationID: nil, ConversationOrigin: ptr("marketing"), AdSourceID: ptr("ad1"),
			Who: model.Who{ContactID: "c1"}, Version: 3},
		&model.VoiceRow{Tenant: "t1", WABA: "w1", PhoneNumberID: "p1", CallID: "wacid.1", Direction: "USER_INITIATED",
			Status: "COMPLETED", StartedAt: ptr(int64(1_760_000_000)), EndedAt: nil, DurationSeconds: 42,
			EventAt: 1_760_000_042, Who: who(1), Version: 5},
		&model.LeadRow{Tenant: "t1", AdSourceID: "ad1", SourceType: "ad", SourceURL: "https://fb.me/x", Headline: "Hi",
			MediaType: "image", CtwaClid: "clid", FirstMessageID: "wamid.1", FirstTouchAt: 1_760_000_000,
			LastTouchAt: 1_760_000_500, Touches: 2, PhoneNumberID: "p1", Who: who(1), Version: 9},
		&model.IdentityRow{Tenant: "t1", ContactID: "c1", BSUID: ptr("US.1"), ParentBSUID: nil, Phone: ptr("57301"),
			Username: nil, Profile: ptr("Ana"), Country: "US", PhoneSource: "contact_request",
			FirstSeen: 1_760_000_000, LastSeen: 1_760_000_900, MergedInto: "", Version: 11},
		&model.ContactKeyRow{Tenant: "t1", KeyType: "phone", KeyValue: "57301", ContactID: "c1",
			FirstSeen: 1_760_000_000, LastSeen: 1_760_000_900, Version: 11},
	}
}

// readFinal reads every row of table after FINAL, in the model's column order, as plain values.
func readFinal(t *testing.T, c *Client, table, orderBy string) [][]any {
	t.Helper()
	cols := model.Columns(table)
	q := fmt.Sprintf("SELECT %s FROM %s.%s FINAL ORDER BY %s", strings.Join(cols, ", "), c.Database(), table, orderBy)
	rows, err := c.Conn().Query(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		dest := make([]any, len(cols))
		for i, ct := range rows.ColumnTypes() {
			dest[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		for i := range dest {
			dest[i] = plain(dest[i])
		}
		out = append(out, dest)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// plain dereferences pointers (nil stays nil) and turns times into unix seconds in UTC, so a value written
// and the value read back compare with reflect.DeepEqual.
func plain(v any) any {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	if t, ok := rv.Interface().(time.Time); ok {
		if t.Location() != time.UTC {
			return fmt.Sprintf("%d in %s, not UTC", t.Unix(), t.Location())
		}
		return t.Unix()
	}
	return rv.Interface()
}

func plainAll(vs []any) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = plain(v)
	}
	return out
}
