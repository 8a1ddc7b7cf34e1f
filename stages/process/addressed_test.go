package process

import (
	"context"
	"testing"

	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/schemas"
	"github.com/wapipe/wapipe/unit"
)

// After a change of number, a status of a message sent before it and a call the business
// placed to the old number still name the old BSUID and phone, with later timestamps.
// The contact keeps the BSUID and phone of the change notice (contract section 6), and the
// status's own row still shows the BSUID it was addressed to.
func TestStatusesAndBusinessCallsToAnOldIdentityLeaveTheContactAsTheUserSaid(t *testing.T) {
	s := newStage(t, "w_a")
	events := []model.Event{
		{Kind: model.KindInbound, ID: "wamid.in", MessageType: "text", At: 1000,
			User: model.Identity{BSUID: "US.1", Phone: "15550001"}},
		{Kind: model.KindIdentityChange, ID: "wamid.sys", ChangeType: "user_changed_number", At: 2000,
			User: model.Identity{BSUID: "US.2", Phone: "15550002"}, PreviousBSUID: "US.1", PreviousPhone: "15550001"},
		{Kind: model.KindStatus, ID: "wamid.out", Status: "delivered", At: 3000, Direction: schemas.BusinessInitiated,
			User: model.Identity{BSUID: "US.1"}},
		{Kind: model.KindCall, ID: "wacid.1", CallEvent: "status", Status: "RINGING", At: 4000,
			Direction: schemas.BusinessInitiated, User: model.Identity{Phone: "15550001"}},
	}
	var statusRow *model.ChatRow
	for i := range events {
		ev := &events[i]
		ev.Tenant, ev.WABA, ev.PhoneNumberID = "t1", "t1", "pn"
		ev.DedupeKey = ev.ID + "|" + ev.Status
		u := &unit.Unit{Rec: &unit.Record{Topic: "whatsapp.webhooks", Offset: int64(i)}, Events: []model.Event{*ev}}
		if err := s.Process(context.Background(), u); err != nil {
			t.Fatal(err)
		}
		for _, r := range u.Rows {
			if c, ok := r.(*model.ChatRow); ok && c.MessageID == "wamid.out" {
				statusRow = c
			}
		}
	}
	if err := flushed(s); err != nil {
		t.Fatal(err)
	}
	c, ok, err := s.Identities.Lookup("t1", "bsuid", "US.1")
	if err != nil || !ok {
		t.Fatalf("lookup: %v %v", ok, err)
	}
	if c.BSUID != "US.2" || c.Phone != "15550002" || c.PhoneSource != model.PhoneFromSystem {
		t.Fatalf("contact = %+v, want the BSUID and phone of the change notice", c)
	}
	if statusRow == nil || statusRow.Who.ContactID != c.ID || statusRow.Who.BSUID != "US.1" {
		t.Fatalf("status row = %+v", statusRow)
	}
}
