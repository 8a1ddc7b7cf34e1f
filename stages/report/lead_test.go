package report

import (
	"testing"
	"time"

	"github.com/wapipe/wapipe/model"
)

const hour = int64(3600)

func TestLeadTouches(t *testing.T) {
	b, v := newBuilder(t, 0), newView(t)
	first := inbound("w1", t0, ad("AD1", "clid-1"))
	second := inbound("w2", t0+hour, ad("AD1", "clid-2"))
	v.apply(b, alice, first)
	if l := v.leads["c-alice|AD1"]; l == nil || l.Touches != 1 || l.FirstMessageID != "w1" {
		t.Fatalf("after first touch: %+v", l)
	}
	v.apply(b, alice, second)
	replay := v.apply(b, alice, second, first) // crash replay of both
	if len(replay) != 2 {
		t.Errorf("replay returned %d rows, want lead + chat", len(replay))
	}
	l := v.leads["c-alice|AD1"]
	if l.Touches != 2 || l.CtwaClid != "clid-2" || l.FirstMessageID != "w1" || l.FirstTouchAt != t0 ||
		l.LastTouchAt != t0+hour || l.SourceURL != "https://fb.me/AD1" || l.PhoneNumberID != "pn-1" {
		t.Errorf("lead %+v", l)
	}
	// An older touch arriving late becomes the first touch but does not replace the latest click id.
	v.apply(b, alice, inbound("w0", t0-hour, ad("AD1", "clid-0")))
	if l := v.leads["c-alice|AD1"]; l.Touches != 3 || l.FirstMessageID != "w0" || l.CtwaClid != "clid-2" {
		t.Errorf("late older touch: %+v", l)
	}
	if c := v.chat["w2"]; deref(c.AdSourceID) != "AD1" || deref(c.CtwaClid) != "clid-2" {
		t.Errorf("the referral message's own row carries its ad: %+v", c)
	}
}

func TestAttributionWindow(t *testing.T) {
	const window = 24 * time.Hour
	w := int64(window / time.Second)
	tests := []struct {
		name     string
		ev       *model.Event
		ad, clid any
	}{
		{"inbound inside", inbound("x", t0+hour, nil), "AD1", "clid-1"},
		{"inbound at the window's end", inbound("x", t0+w, nil), "AD1", "clid-1"},
		{"inbound after the window", inbound("x", t0+w+1, nil), nil, nil},
		{"inbound before the touch", inbound("x", t0-1, nil), nil, nil},
		{"outbound inside", status("x", "sent", t0+2*hour), "AD1", "clid-1"},
		{"outbound after", status("x", "delivered", t0+w+hour), nil, nil},
		{"later touch wins", inbound("x", t0+5*hour, nil), "AD2", nil}, // AD2 ran in Status: no click id
		{"older touch for an event between", inbound("x", t0+3*hour, nil), "AD1", "clid-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, v := newBuilder(t, window), newView(t)
			v.apply(b, alice, inbound("touch1", t0, ad("AD1", "clid-1")))
			if tc.name == "later touch wins" || tc.name == "older touch for an event between" {
				v.apply(b, alice, inbound("touch2", t0+4*hour, ad("AD2", "")))
			}
			v.apply(b, alice, tc.ev)
			r := v.chat["x"]
			if deref(r.AdSourceID) != tc.ad || deref(r.CtwaClid) != tc.clid {
				t.Errorf("ad %v clid %v, want %v %v", deref(r.AdSourceID), deref(r.CtwaClid), tc.ad, tc.clid)
			}
			if v.chat["x"].Who.ContactID != alice.ContactID {
				t.Error("attribution is per contact")
			}
		})
	}
	t.Run("another contact's touch does not count", func(t *testing.T) {
		b, v := newBuilder(t, window), newView(t)
		v.apply(b, alice, inbound("touch1", t0, ad("AD1", "clid-1")))
		v.apply(b, bob, inbound("x", t0+hour, nil))
		if v.chat["x"].AdSourceID != nil {
			t.Error("bob's row got alice's ad")
		}
	})
}

func TestUsageAd(t *testing.T) {
	const window = 24 * time.Hour
	late := t0 + 48*hour
	tests := []struct {
		name string
		ev   *model.Event
		want any
	}{
		{"regular inside the window", priced(status("m", "sent", t0+hour), "marketing", "regular"), "AD1"},
		{"regular after the window", priced(status("m", "sent", late), "marketing", "regular"), nil},
		{"referral_conversion after the window", priced(status("m", "sent", late), "referral_conversion", "free_entry_point"), "AD1"},
		{"free_entry_point after the window", priced(status("m", "sent", late), "service", "free_entry_point"), "AD1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, v := newBuilder(t, window), newView(t)
			v.apply(b, alice, inbound("touch", t0, ad("AD1", "clid-1")), tc.ev)
			if got := deref(v.usage["m"].AdSourceID); got != tc.want {
				t.Errorf("usage ad %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMergeContacts(t *testing.T) {
	b, v := newBuilder(t, 0), newView(t)
	v.apply(b, alice, inbound("a1", t0+hour, ad("AD1", "clid-a1")), inbound("a2", t0+2*hour, ad("AD1", "clid-a2")))
	v.apply(b, bob, inbound("b1", t0, ad("AD1", "clid-b1")), inbound("b2", t0+3*hour, ad("AD9", "clid-b2")),
		inbound("b3", t0+90*60, ad("AD1", "clid-b3")))
	for range 2 { // the second call is a replay: same rows, nothing added twice
		rows, err := b.MergeContacts(tenant, bob.ContactID, alice.ContactID, alice)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 4 {
			t.Fatalf("merge returned %d rows, want survivor + tombstone for 2 ads", len(rows))
		}
		v.add(rows)
	}
	l := v.leads["c-alice|AD1"]
	if l.Touches != 4 || l.FirstTouchAt != t0 || l.FirstMessageID != "b1" || l.LastTouchAt != t0+2*hour || l.CtwaClid != "clid-a2" {
		t.Errorf("merged lead %+v", l)
	}
	if l := v.leads["c-alice|AD9"]; l == nil || l.Touches != 1 || l.FirstMessageID != "b2" {
		t.Errorf("moved lead %+v", l)
	}
	live, touches := 0, uint32(0)
	for _, l := range v.leads {
		touches += l.Touches
		if l.Touches > 0 {
			live++
		}
	}
	if live != 2 || touches != 5 || v.leads["c-bob|AD1"].Touches != 0 {
		t.Errorf("analyst sees %d live leads with %d touches, want 2 and 5", live, touches)
	}
	// The loser's touches now attribute the survivor's traffic.
	v.apply(b, alice, inbound("after", t0+4*hour, nil))
	if deref(v.chat["after"].AdSourceID) != "AD9" {
		t.Errorf("after merge: ad %v", deref(v.chat["after"].AdSourceID))
	}
}

func TestNoRows(t *testing.T) {
	b := newBuilder(t, 0)
	sys := inbound("sys", t0, nil)
	sys.MessageType = "system"
	for _, ev := range []*model.Event{base(model.KindIdentityChange, "sys2", t0), sys, status("m", "deleted", t0)} {
		if rows, err := b.Rows(ev, alice); err != nil || len(rows) != 0 {
			t.Errorf("%s %s: %d rows, %v", ev.Kind, ev.ID, len(rows), err)
		}
	}
	if _, err := b.Rows(base(model.Kind(99), "x", t0), alice); err == nil {
		t.Error("unknown kind: want an error")
	}
}
