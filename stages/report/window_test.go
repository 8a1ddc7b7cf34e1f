package report

import (
	"fmt"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/wapipe/wapipe/state"
)

const day = int64(24 * 3600)

// windowStates counts the per-message and per-call states the store holds.
func windowStates(t *testing.T, db *badger.DB) int {
	t.Helper()
	n := 0
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxWindow)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func flush(t *testing.T, b *Builder) {
	t.Helper()
	if err := endBatch(b); err != nil {
		t.Fatal(err)
	}
}

// Thirty days of traffic replayed in a moment: the open messages and calls the state holds after
// day 30 are no more than after day 8, because they expire in event time, not on the clock. An
// inbound message without a referral holds no state at all: two states an item of traffic.
func TestOpenStateIsBoundedInEventTime(t *testing.T) {
	db := openDB(t)
	b, err := New(db, testConfig(db, Config{}))
	if err != nil {
		t.Fatal(err)
	}
	v := newView(t)
	const perDay = 50
	held := map[int]int{}
	for d := range 30 {
		for i := range perDay {
			at := t0 + int64(d)*day + int64(i)*600
			v.apply(b, alice, inbound(fmt.Sprintf("in.%d.%d", d, i), at, nil),
				priced(status(fmt.Sprintf("out.%d.%d", d, i), "sent", at), "utility", "regular"),
				callEv(fmt.Sprintf("call.%d.%d", d, i), "connect", "CONNECTED", at))
		}
		flush(t, b)
		held[d+1] = windowStates(t, db)
	}
	if held[8] < 7*2*perDay {
		t.Fatalf("after day 8 the store holds %d states, want at least the %d of the last 7 days", held[8], 7*2*perDay)
	}
	if held[30] > held[8] {
		t.Errorf("open state grows with time: %d states after day 30, %d after day 8", held[30], held[8])
	}
	if max := 8 * 2 * perDay; held[30] > max {
		t.Errorf("after day 30 the store holds %d states, more than 8 days' %d", held[30], max)
	}
}

// A late status within Meta's 7 days of retries still finds its message: the row keeps the
// message's sent_at and is not a second message.
func TestLateStatusWithinSevenDaysFindsItsMessage(t *testing.T) {
	b, v := newBuilder(t, 0), newView(t)
	v.apply(b, alice, status("m1", "sent", t0))
	for d := int64(1); d <= 7; d++ { // other traffic moves the watermark day by day
		v.apply(b, alice, inbound(fmt.Sprint("other", d), t0+d*day, nil))
		flush(t, b)
	}
	rows := v.apply(b, alice, status("m1", "read", t0+7*day))
	if len(rows) != 1 {
		t.Fatalf("late read returned %d rows", len(rows))
	}
	if got := v.chat["m1"]; got.Status != "read" || got.SentAt != t0 {
		t.Errorf("late read: status %q sent_at %d, want read with sent_at %d", got.Status, got.SentAt, t0)
	}
	contact, ok, err := b.MessageContact(tenant, "m1")
	if err != nil || !ok || contact != alice.ContactID {
		t.Errorf("MessageContact after 7 days = %q, %v, %v", contact, ok, err)
	}
}

// One webhook stamped far in the future must not expire every open message.
func TestFutureTimestampDoesNotExpireOpenState(t *testing.T) {
	db := openDB(t)
	b, err := New(db, testConfig(db, Config{}))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	v := newView(t)
	v.apply(b, alice, status("m1", "sent", now))
	v.apply(b, alice, inbound("from-2100", time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), nil))
	flush(t, b)
	if _, ok, err := b.MessageContact(tenant, "m1"); err != nil || !ok {
		t.Fatalf("a timestamp of 2100 expired a message sent now (%v)", err)
	}
}

// The watermark is committed with the state: a restarted worker expires what the last one would.
func TestWatermarkSurvivesARestart(t *testing.T) {
	db := openDB(t)
	first, err := New(db, Config{State: state.Open(db)})
	if err != nil {
		t.Fatal(err)
	}
	v := newView(t)
	v.apply(first, alice, status("old", "sent", t0))
	v.apply(first, alice, status("later", "sent", t0+20*day))
	flush(t, first)
	restarted, err := New(db, Config{State: state.Open(db)})
	if err != nil {
		t.Fatal(err)
	}
	if restarted.win.watermark != t0+20*day {
		t.Fatalf("watermark after restart %d, want %d", restarted.win.watermark, t0+20*day)
	}
	if _, ok, _ := restarted.MessageContact(tenant, "old"); ok {
		t.Errorf("a message 20 days behind the watermark is still open after a restart")
	}
	if _, ok, _ := restarted.MessageContact(tenant, "later"); !ok {
		t.Errorf("the newest message is gone after a restart")
	}
}

// A state directory of the version before the window keeps its open messages readable.
func TestLegacyOpenStateIsStillRead(t *testing.T) {
	db := openDB(t)
	m := msgState{contact: "c-legacy", flags: fSent, rank: rankSent, sentAt: t0, statusAt: t0, seen: 1 << rankSent}
	enc := m.encode()
	enc = enc[:len(enc)-1] // that version had no firstAt (0, one varint byte, last)
	err := db.Update(func(txn *badger.Txn) error {
		return txn.SetEntry(badger.NewEntry(key(legacyMsg, tenant, "m-old"), enc).WithTTL(8 * 24 * time.Hour))
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(db, Config{State: state.Open(db)})
	if err != nil {
		t.Fatal(err)
	}
	v := newView(t)
	v.apply(b, alice, status("m-old", "delivered", t0+60))
	if got := v.chat["m-old"]; got == nil || got.SentAt != t0 || got.Status != "delivered" {
		t.Fatalf("status of a message stored by the previous version: %+v", got)
	}
	flush(t, b)
	if n := windowStates(t, db); n != 1 {
		t.Errorf("%d states in the window, want the legacy message moved in", n)
	}
}
