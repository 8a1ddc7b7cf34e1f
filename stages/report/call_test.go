package report

import (
	"bytes"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/wapipe/wapipe/model"
)

func terminate(at int64) *model.Event {
	ev := callEv("wacid.1", "terminate", "COMPLETED", at)
	ev.StartTime, ev.EndTime, ev.Duration = t0+10, t0+130, 120
	return ev
}

// noDuration is a terminate whose duration field is missing: start and end time tell it.
func noDuration(ev *model.Event) *model.Event {
	ev.Duration = 0
	return ev
}

func TestCalls(t *testing.T) {
	ringing := callEv("wacid.1", "status", "RINGING", t0)
	accepted := callEv("wacid.1", "status", "ACCEPTED", t0+10)
	connect := callEv("wacid.1", "connect", "CONNECTED", t0+11)
	rejected := callEv("wacid.1", "status", "REJECTED", t0+20)
	tests := []struct {
		name     string
		evs      []*model.Event
		status   string
		answered bool
		eventAt  int64
	}{
		{"ringing only", []*model.Event{ringing}, "RINGING", false, t0},
		{"ringing, accepted, connect, terminate", []*model.Event{ringing, accepted, connect, terminate(t0 + 130)}, "COMPLETED", true, t0 + 130},
		{"connect after terminate", []*model.Event{ringing, terminate(t0 + 130), connect}, "COMPLETED", true, t0 + 130},
		{"terminate first", []*model.Event{terminate(t0 + 130), accepted, ringing}, "COMPLETED", true, t0 + 130},
		{"first terminal status stays", []*model.Event{ringing, rejected, terminate(t0 + 130)}, "REJECTED", true, t0 + 130},
		{"lower case status", []*model.Event{callEv("wacid.1", "terminate", "Failed", t0+5)}, "FAILED", false, t0 + 5},
		{"terminate without duration", []*model.Event{ringing, noDuration(terminate(t0 + 130))}, "COMPLETED", true, t0 + 130},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, v := newBuilder(t, 0), newView(t)
			v.apply(b, bob, tc.evs...)
			r := v.voice["wacid.1"]
			if r.Status != tc.status || r.EventAt != tc.eventAt || r.Direction != "USER_INITIATED" {
				t.Errorf("got %s event_at %d %s, want %s %d", r.Status, r.EventAt-t0, r.Direction, tc.status, tc.eventAt-t0)
			}
			var want [3]any // started_at, ended_at, duration of an unanswered call
			want[2] = uint32(0)
			if tc.answered {
				want = [3]any{t0 + 10, t0 + 130, uint32(120)}
			}
			if got := [3]any{deref(r.StartedAt), deref(r.EndedAt), r.DurationSeconds}; got != want {
				t.Errorf("started/ended/duration %v, want %v", got, want)
			}
		})
	}
}

func TestCallReplayAndLateEvent(t *testing.T) {
	b, v := newBuilder(t, 0), newView(t)
	v.apply(b, bob, callEv("wacid.1", "status", "RINGING", t0), terminate(t0+130))
	if rows := v.apply(b, bob, terminate(t0+130)); len(rows) != 1 {
		t.Errorf("replayed terminate returned %d rows, want the current row", len(rows))
	}
	if rows := v.apply(b, bob, callEv("wacid.1", "connect", "CONNECTED", t0+11)); len(rows) != 0 {
		t.Errorf("late connect changed the row: %v", rows[0])
	}
	if v.emitted["voice_report"] != 3 || v.voice["wacid.1"].Status != "COMPLETED" {
		t.Errorf("emitted %d, final %+v", v.emitted["voice_report"], v.voice["wacid.1"])
	}
}

// The builder shares the caller's Badger: it writes under rp/ only; message and call state lives in
// the window (expiring in event time, window_test.go), nothing carries a wall-clock TTL.
func TestStateKeys(t *testing.T) {
	db := openDB(t)
	b, err := New(db, Config{})
	if err != nil {
		t.Fatal(err)
	}
	v := newView(t)
	v.apply(b, alice, inbound("w1", t0, ad("AD1", "c")), priced(status("m", "sent", t0), "marketing", "regular"),
		terminate(t0))
	err = db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		n, windowed := 0, 0
		for it.Rewind(); it.Valid(); it.Next() {
			k, exp := it.Item().Key(), it.Item().ExpiresAt()
			n++
			if !bytes.HasPrefix(k, []byte("rp/")) {
				t.Errorf("key %q outside rp/", k)
			}
			if exp != 0 {
				t.Errorf("key %q expires at %d", k, exp)
			}
			if bytes.HasPrefix(k, []byte(pfxWindow)) {
				windowed++
			}
		}
		if n != 6 || windowed != 3 { // 2 messages, 1 call in the window; 1 lead, 1 touch list, the watermark
			t.Errorf("%d keys, %d in the window", n, windowed)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
