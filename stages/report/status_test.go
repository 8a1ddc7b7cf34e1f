package report

import (
	"testing"

	"github.com/wapipe/wapipe/model"
)

func TestStatusesAnyOrder(t *testing.T) {
	sent, dlv, read := status("m", "sent", t0), status("m", "delivered", t0+5), status("m", "read", t0+60)
	played := status("m", "played", t0+90)
	code := int32(131049)
	failed := status("m", "failed", t0+30)
	failed.ErrorCode = &code
	tests := []struct {
		name               string
		evs                []*model.Event
		status             string
		sentAt, statusAt   int64
		errCode            any
		wantRowsFromLatest int // rows the last event returns: 0 when it changes nothing
	}{
		{"in order", []*model.Event{sent, dlv, read}, "read", t0, t0 + 60, nil, 1},
		{"read, delivered, sent", []*model.Event{read, dlv, sent}, "read", t0, t0 + 60, nil, 1},
		{"delivered, read, sent", []*model.Event{dlv, read, sent}, "read", t0, t0 + 60, nil, 1},
		{"no sent yet: earliest status", []*model.Event{read, dlv}, "read", t0 + 5, t0 + 60, nil, 1},
		{"delivered after read changes nothing", []*model.Event{sent, read, dlv}, "read", t0, t0 + 60, nil, 0},
		{"played outranks read", []*model.Event{sent, played, read}, "played", t0, t0 + 90, nil, 0},
		{"failed outranks read", []*model.Event{sent, read, failed}, "failed", t0, t0 + 30, code, 1},
		{"read after failed", []*model.Event{failed, read, sent}, "failed", t0, t0 + 30, code, 1},
		{"failed only", []*model.Event{failed}, "failed", t0 + 30, t0 + 30, code, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, v := newBuilder(t, 0), newView(t)
			last := v.apply(b, alice, tc.evs...)
			if len(last) != tc.wantRowsFromLatest {
				t.Errorf("last event returned %d rows, want %d", len(last), tc.wantRowsFromLatest)
			}
			r := v.chat["m"]
			if r.Status != tc.status || r.SentAt != tc.sentAt || r.StatusAt != tc.statusAt {
				t.Errorf("got %s sent_at %d status_at %d, want %s %d %d", r.Status, r.SentAt-t0, r.StatusAt-t0,
					tc.status, tc.sentAt-t0, tc.statusAt-t0)
			}
			if deref(r.ErrorCode) != tc.errCode {
				t.Errorf("error_code %v, want %v", deref(r.ErrorCode), tc.errCode)
			}
			if r.Direction != "outbound" || r.MessageType != "" || r.Who.ContactID != alice.ContactID {
				t.Errorf("row %+v", r)
			}
		})
	}
}

func TestUsageCountedOnce(t *testing.T) {
	sent := func() *model.Event { return priced(status("m", "sent", t0), "marketing", "regular") }
	dlv := func() *model.Event { return priced(status("m", "delivered", t0+7), "marketing", "regular") }
	tests := []struct {
		name        string
		evs         []*model.Event
		wantEmitted int
	}{
		{"sent then delivered", []*model.Event{sent(), dlv()}, 1},
		{"delivered first: billed_at moves back to sent", []*model.Event{dlv(), sent()}, 2},
		{"failed carries none", []*model.Event{sent(), priced(status("m", "failed", t0+9), "marketing", "regular")}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, v := newBuilder(t, 0), newView(t)
			v.apply(b, alice, tc.evs...)
			if v.emitted["package_usage_report"] != tc.wantEmitted || len(v.usage) != 1 {
				t.Fatalf("usage rows emitted %d (want %d), final %d", v.emitted["package_usage_report"], tc.wantEmitted, len(v.usage))
			}
			u := v.usage["m"]
			if u.BilledAt != t0 || u.Category != "marketing" || u.PricingType != "regular" || deref(u.Billable) != uint8(1) {
				t.Errorf("usage %+v", u)
			}
		})
	}
}

func TestUsagePassesPricingThrough(t *testing.T) {
	b, v := newBuilder(t, 0), newView(t)
	ev := priced(status("m", "sent", t0), "authentication_international", "regular")
	ev.Pricing.Billable = nil
	ev.Conversation = &model.Conversation{ID: "conv-1", OriginType: "authentication_international"}
	v.apply(b, alice, ev, priced(status("m", "read", t0+3), "authentication_international", "regular"))
	u := v.usage["m"]
	if u.Category != "authentication_international" || u.PricingModel != "PMP" || u.Billable != nil ||
		deref(u.ConversationID) != "conv-1" || deref(u.ConversationOrigin) != "authentication_international" {
		t.Errorf("usage %+v", u)
	}
	if u.AdSourceID != nil {
		t.Errorf("no touch, yet ad %v", *u.AdSourceID)
	}
}

// A replay (the pipeline re-applies events after a crash) returns the rows again, with the same
// versions, and counts nothing twice.
func TestStatusReplay(t *testing.T) {
	b, v := newBuilder(t, 0), newView(t)
	sent := priced(status("m", "sent", t0), "utility", "regular")
	v.apply(b, alice, sent, status("m", "delivered", t0+1))
	again := v.apply(b, alice, sent)
	if len(again) != 2 {
		t.Fatalf("replay returned %d rows, want chat + usage", len(again))
	}
	if c := v.chat["m"]; c.Status != "delivered" || c.SentAt != t0 {
		t.Errorf("after replay %s sent_at %d", c.Status, c.SentAt-t0)
	}
	if len(v.usage) != 1 || v.usage["m"].BilledAt != t0 {
		t.Errorf("usage %+v", v.usage)
	}
}

func TestMessageContact(t *testing.T) {
	b := newBuilder(t, 0)
	for _, ev := range []*model.Event{status("out", "sent", t0), inbound("in", t0, nil), callEv("wacid.1", "connect", "", t0)} {
		if _, err := b.Rows(ev, bob); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"out", "wacid.1"} { // an inbound message has no statuses to resolve: no state
		if c, ok, err := b.MessageContact(tenant, id); err != nil || !ok || c != bob.ContactID {
			t.Errorf("%s: %q %v %v", id, c, ok, err)
		}
	}
	if _, ok, err := b.MessageContact(tenant, "never"); ok || err != nil {
		t.Errorf("unknown message: ok %v err %v", ok, err)
	}
	if _, ok, _ := b.MessageContact("other-tenant", "out"); ok {
		t.Error("message ids are scoped to the tenant")
	}
}

// first_event_at is the first status's time in every version, however sent_at moves, and state
// written before the column existed decodes with its sent_at standing in.
func TestFirstEventAtNeverMoves(t *testing.T) {
	b, v := newBuilder(t, 0), newView(t)
	dlv := priced(status("m", "delivered", t0+5), "marketing", "regular")
	v.apply(b, alice, dlv, status("m", "read", t0+60), priced(status("m", "sent", t0), "marketing", "regular"))
	if c, u := v.chat["m"], v.usage["m"]; c.SentAt != t0 || c.FirstEventAt != t0+5 || u.FirstEventAt != t0+5 {
		t.Errorf("sent_at %d, first_event_at %d (usage %d); want 0, 5, 5", c.SentAt-t0, c.FirstEventAt-t0, u.FirstEventAt-t0)
	}
	old := msgState{sentAt: t0 + 3, statusAt: t0 + 9, rank: rankRead}
	enc := old.encode()
	legacy := enc[:len(enc)-1] // firstAt 0 is one varint byte: what a state of the earlier layout ends before
	var m msgState
	if err := m.decode(legacy); err != nil || m.firstAt != t0+3 || m.statusAt != t0+9 {
		t.Errorf("legacy state: %v, firstAt %d, statusAt %d; want sent_at 3 standing in", err, m.firstAt-t0, m.statusAt-t0)
	}
}
