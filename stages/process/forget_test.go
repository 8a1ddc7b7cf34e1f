package process

import (
	"context"
	"testing"

	"github.com/wapipe/wapipe/identity"
	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/unit"
)

// An erasure record from the identity topic (wapipe forget) empties the contact's phone,
// username and profile name on the worker, is published again (so the topic's last record
// of the contact carries it), and a later status of an earlier message is written without
// the person's data.
func TestImportOfAnErasure(t *testing.T) {
	ctx := context.Background()
	s := newStage(t, "w_a")
	ev := model.Event{Kind: model.KindInbound, Tenant: "t1", WABA: "t1", PhoneNumberID: "pn", ID: "wamid.1", At: 1000,
		MessageType: "text", DedupeKey: "wamid.1",
		User: model.Identity{BSUID: "US.1", Phone: "15550001", Username: "@ana", ProfileName: "Ana"}}
	u := &unit.Unit{Rec: &unit.Record{Topic: "whatsapp.webhooks"}, Events: []model.Event{ev}}
	if err := s.Process(ctx, u); err != nil {
		t.Fatal(err)
	}
	contact := ""
	for _, r := range u.Rows {
		if id, ok := r.(*model.IdentityRow); ok {
			contact = id.ContactID
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}

	erasure := replicaUnit(identity.ErasureRecord("t1", contact, 2000), "forget")
	if err := s.Import(ctx, erasure); err != nil {
		t.Fatal(err)
	}
	if erasure.DeadLetter != nil || !erasure.Republish {
		t.Fatalf("erasure unit: dead letter %v, republish %v: want applied and published again", erasure.DeadLetter, erasure.Republish)
	}
	var row *model.IdentityRow
	for _, r := range erasure.Rows {
		if id, ok := r.(*model.IdentityRow); ok && id.ContactID == contact {
			row = id
		}
	}
	if row == nil || row.Phone != nil || row.Username != nil || row.Profile != nil {
		t.Fatalf("identities row of the erasure: %+v", row)
	}

	status := model.Event{Kind: model.KindStatus, Tenant: "t1", WABA: "t1", PhoneNumberID: "pn", ID: "wamid.2", At: 1500,
		Status: "delivered", DedupeKey: "wamid.2/delivered", User: model.Identity{BSUID: "US.1", Phone: "15550001"}}
	later := &unit.Unit{Rec: &unit.Record{Topic: "whatsapp.webhooks"}, Events: []model.Event{status}}
	if err := s.Process(ctx, later); err != nil {
		t.Fatal(err)
	}
	chats := 0
	for _, r := range later.Rows {
		if c, ok := r.(*model.ChatRow); ok {
			chats++
			if c.Who.Phone != nil || c.Who.Username != "" || c.Who.ProfileName != "" || c.Who.ContactID != contact {
				t.Fatalf("a status dated before the erasure wrote %+v", c.Who)
			}
		}
	}
	if chats != 1 {
		t.Fatalf("the status wrote %d chat rows, want 1", chats)
	}
}

// The contacts a batch erased come out once that batch's rows are durable, not before, and
// until it is checkpointed: the worker then erases them in ClickHouse again, after every
// row it wrote before the erasure.
func TestErasedContactsComeOutWhenTheirBatchIsDurable(t *testing.T) {
	ctx := context.Background()
	s := newStage(t, "w_a")
	ev := model.Event{Kind: model.KindInbound, Tenant: "t1", WABA: "t1", PhoneNumberID: "pn", ID: "wamid.1", At: 1000,
		MessageType: "text", DedupeKey: "wamid.1", User: model.Identity{BSUID: "US.1", Phone: "15550001"}}
	u := &unit.Unit{Rec: &unit.Record{Topic: "whatsapp.webhooks"}, Events: []model.Event{ev}}
	if err := s.Process(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil { // batch 1: the message
		t.Fatal(err)
	}
	contact, _, _ := s.Identities.ContactOf("t1", identity.KeyBSUID, "US.1")
	if err := s.Import(ctx, replicaUnit(identity.ErasureRecord("t1", contact, 2000), "forget")); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil { // batch 2: the erasure
		t.Fatal(err)
	}
	if got := s.DurablyErased(); len(got) != 0 { // batch 1 is durable
		t.Fatalf("erased contacts out with the batch before the erasure: %v", got)
	}
	if err := s.Durable(); err != nil {
		t.Fatal(err)
	}
	if got := s.DurablyErased(); len(got) != 1 || got[0].ID != contact { // batch 2 is durable
		t.Fatalf("DurablyErased = %v, want %s", got, contact)
	}
	if err := s.Durable(); err != nil {
		t.Fatal(err)
	}
	if got := s.DurablyErased(); len(got) != 0 {
		t.Fatalf("DurablyErased once its batch is checkpointed = %v", got)
	}
}
