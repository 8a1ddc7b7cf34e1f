package report

import (
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/state"
)

const (
	tenant = "tn"
	t0     = int64(1_780_000_000) // 2026-05-28, a webhook time
)

var (
	phone = "15550001111"
	alice = model.Who{ContactID: "c-alice", BSUID: "US.111", Phone: &phone, PhoneSource: "webhook", ProfileName: "Alice"}
	bob   = model.Who{ContactID: "c-bob", BSUID: "US.222", ProfileName: "Bob"}
)

func openDB(tb testing.TB) *badger.DB {
	tb.Helper()
	db, err := badger.Open(badger.DefaultOptions(tb.TempDir()).WithLogger(nil))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// sharedMode runs every test a second time on a shared state (Config.State), checkpointed
// only at the end of a batch: that must change no row and no answer.
var sharedMode bool

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		sharedMode = true
		code = m.Run()
	}
	os.Exit(code)
}

func newBuilder(tb testing.TB, window time.Duration) *Builder {
	db := openDB(tb)
	b, err := New(db, testConfig(db, Config{AttributionWindow: window}))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// testConfig is cfg with a shared state on db in sharedMode.
func testConfig(db *badger.DB, cfg Config) Config {
	if sharedMode {
		cfg.State = state.Open(db)
	}
	return cfg
}

// endBatch ends a batch as the pipeline does: Flush, then, on a shared state, the seal and
// (the rows being durable) the checkpoint.
func endBatch(b *Builder) error {
	if err := b.Flush(); err != nil {
		return err
	}
	if !b.shared {
		return nil
	}
	b.st.Seal()
	return b.st.Checkpoint()
}

func base(kind model.Kind, id string, at int64) *model.Event {
	return &model.Event{Kind: kind, Tenant: tenant, WABA: "waba-1", PhoneNumberID: "pn-1", At: at, ID: id}
}

func inbound(id string, at int64, ref *model.Referral) *model.Event {
	ev := base(model.KindInbound, id, at)
	ev.MessageType, ev.Referral = "text", ref
	return ev
}

func ad(id, clid string) *model.Referral {
	return &model.Referral{SourceID: id, SourceType: "ad", SourceURL: "https://fb.me/" + id, Headline: "h-" + id,
		MediaType: "image", CtwaClid: clid}
}

func status(id, st string, at int64) *model.Event {
	ev := base(model.KindStatus, id, at)
	ev.Status = st
	return ev
}

func priced(ev *model.Event, category, typ string) *model.Event {
	yes := typ == "regular"
	ev.Pricing = &model.Pricing{Model: "PMP", Type: typ, Category: category, Billable: &yes}
	return ev
}

func callEv(id, event, st string, at int64) *model.Event {
	ev := base(model.KindCall, id, at)
	ev.CallEvent, ev.Status, ev.Direction = event, st, "USER_INITIATED"
	return ev
}

// view is what an analyst sees with SELECT ... FINAL: per key, the row with the highest version.
// It also fails the test when the builder breaks what FINAL relies on: a version going down on
// one worker, two different rows with the same version, or two versions of a row with different
// first_event_at (the partition key: ReplacingMergeTree's merges fold versions only within a partition).
type view struct {
	tb      testing.TB
	chat    map[string]*model.ChatRow
	usage   map[string]*model.UsageRow
	voice   map[string]*model.VoiceRow
	leads   map[string]*model.LeadRow // contact|ad
	emitted map[string]int            // rows returned, per table
	firstAt map[string]int64          // table|key: first_event_at of its first version
}

func newView(tb testing.TB) *view {
	return &view{tb: tb, chat: map[string]*model.ChatRow{}, usage: map[string]*model.UsageRow{},
		voice: map[string]*model.VoiceRow{}, leads: map[string]*model.LeadRow{}, emitted: map[string]int{},
		firstAt: map[string]int64{}}
}

func (v *view) add(rows []model.Row) {
	v.tb.Helper()
	for _, r := range rows {
		v.emitted[r.Table()]++
		switch r := r.(type) {
		case *model.ChatRow:
			v.samePartition(r.Table(), r.MessageID, r.FirstEventAt)
			keep(v.tb, v.chat, r.MessageID, r, r.Version)
		case *model.UsageRow:
			v.samePartition(r.Table(), r.MessageID, r.FirstEventAt)
			keep(v.tb, v.usage, r.MessageID, r, r.Version)
		case *model.VoiceRow:
			v.samePartition(r.Table(), r.CallID, r.FirstEventAt)
			keep(v.tb, v.voice, r.CallID, r, r.Version)
		case *model.LeadRow:
			keep(v.tb, v.leads, r.Who.ContactID+"|"+r.AdSourceID, r, r.Version)
		default:
			v.tb.Fatalf("unexpected row %T", r)
		}
	}
}

func (v *view) samePartition(table, key string, firstAt int64) {
	v.tb.Helper()
	if firstAt == 0 {
		v.tb.Errorf("%s %s: no first_event_at", table, key)
	}
	k := table + "|" + key
	if old, ok := v.firstAt[k]; ok && old != firstAt {
		v.tb.Errorf("%s %s: first_event_at moved %d -> %d: two partitions would keep both versions", table, key, old, firstAt)
	}
	v.firstAt[k] = firstAt
}

func keep[R interface{ Values() []any }](tb testing.TB, m map[string]R, k string, r R, ver uint64) {
	tb.Helper()
	old, ok := m[k]
	if !ok {
		m[k] = r
		return
	}
	ov := old.Values()
	switch oldVer := *ov[len(ov)-1].(*uint64); {
	case ver < oldVer:
		tb.Errorf("%s: version went down %x -> %x: FINAL would keep the stale row", k, oldVer, ver)
	case ver == oldVer && !reflect.DeepEqual(ov, r.Values()):
		tb.Errorf("%s: same version %x, different rows: FINAL is ambiguous\n%v\n%v", k, ver, ov, r.Values())
	default:
		m[k] = r
	}
}

// apply runs events through b into v and returns the rows of the last one.
func (v *view) apply(b *Builder, who model.Who, evs ...*model.Event) []model.Row {
	v.tb.Helper()
	var rows []model.Row
	for _, ev := range evs {
		var err error
		if rows, err = b.Rows(ev, who); err != nil {
			v.tb.Fatal(err)
		}
		v.add(rows)
	}
	return rows
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
