package process

import (
	"context"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/segmentio/kafka-go"

	"github.com/wapipe/wapipe/identity"
	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/stages/dedupe"
	"github.com/wapipe/wapipe/stages/report"
	"github.com/wapipe/wapipe/state"
	"github.com/wapipe/wapipe/unit"
)

func newStage(t *testing.T, self string) *Stage {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(t.TempDir()).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return stageOn(t, db, self)
}

// stageOn is the stage as the worker builds it, on a fresh state over db.
func stageOn(t *testing.T, db *badger.DB, self string) *Stage {
	t.Helper()
	st := state.Open(db)
	reports, err := report.New(db, report.Config{State: st})
	if err != nil {
		t.Fatal(err)
	}
	return &Stage{Seen: dedupe.New(dedupe.Config{}), Identities: identity.NewWithConfig(db, identity.Config{State: st}),
		Reports: reports, State: st, Self: self}
}

// flushed ends a batch whose rows are durable at once: Flush, then Durable.
func flushed(s *Stage) error {
	if err := s.Flush(); err != nil {
		return err
	}
	return s.Durable()
}

func replicaUnit(value []byte, from string) *unit.Unit {
	return &unit.Unit{Rec: &unit.Record{Topic: "whatsapp.identity", Value: value, Replica: true,
		Headers: []kafka.Header{{Key: HeaderWorker, Value: []byte(from)}}}}
}

// A's referral reaches B through the identity topic: B imports the contact and then its
// lead, skips its own snapshots, and dead-letters what it cannot read.
func TestImportOfAnotherWorkersContactAndLead(t *testing.T) {
	ctx := context.Background()
	a, b := newStage(t, "w_a"), newStage(t, "w_b")
	ev := model.Event{Kind: model.KindInbound, Tenant: "t1", WABA: "t1", PhoneNumberID: "pn", ID: "wamid.1", At: 1000,
		MessageType: "text", DedupeKey: "wamid.1", User: model.Identity{BSUID: "US.1", Phone: "15550001"},
		Referral: &model.Referral{SourceID: "AD1", CtwaClid: "clid"}}
	u := &unit.Unit{Rec: &unit.Record{Topic: "whatsapp.webhooks"}, Events: []model.Event{ev}}
	if err := a.Process(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := flushed(a); err != nil {
		t.Fatal(err)
	}
	var contact string
	var refs []identity.ContactRef
	for _, r := range u.Rows {
		if id, ok := r.(*model.IdentityRow); ok {
			contact = id.ContactID
			refs = append(refs, identity.ContactRef{Tenant: id.Tenant, ID: id.ContactID})
		}
	}
	snaps, err := a.Identities.Snapshots(refs)
	if err != nil || len(snaps) != 1 {
		t.Fatalf("snapshots %v %v", snaps, err)
	}
	_, leads, err := a.Reports.LeadSnapshots([]report.LeadRef{{Tenant: "t1", Contact: contact, Ad: "AD1"}})
	if err != nil || len(leads) != 1 {
		t.Fatalf("lead snapshots %v %v", leads, err)
	}

	for _, v := range [][]byte{snaps[0].Value, leads[0]} {
		if own := replicaUnit(v, "w_b"); b.Import(ctx, own) != nil || len(own.Rows) != 0 {
			t.Fatalf("B imported its own snapshot: %d rows", len(own.Rows))
		}
	}
	ui, ul := replicaUnit(snaps[0].Value, "w_a"), replicaUnit(leads[0], "w_a")
	if err := b.Import(ctx, ui); err != nil {
		t.Fatal(err)
	}
	if err := b.Import(ctx, ul); err != nil {
		t.Fatal(err)
	}
	if err := flushed(b); err != nil {
		t.Fatal(err)
	}
	if c, ok, err := b.Identities.Lookup("t1", identity.KeyPhone, "15550001"); err != nil || !ok || c.ID != contact || c.BSUID != "US.1" {
		t.Fatalf("B's contact for the phone: %+v %v %v, want %s", c, ok, err, contact)
	}
	var lead *model.LeadRow
	for _, r := range ul.Rows {
		lead, _ = r.(*model.LeadRow)
	}
	if lead == nil || lead.Touches != 1 || lead.ContactID != contact {
		t.Fatalf("B's lead row %+v", lead)
	}
	for _, v := range [][]byte{[]byte("s garbage"), []byte("l garbage")} {
		bad := replicaUnit(v, "w_a")
		if err := b.Import(ctx, bad); err != nil || bad.DeadLetter == nil {
			t.Fatalf("%q: err %v, dead letter %+v", v, err, bad.DeadLetter)
		}
	}
}

// A stop after a batch's state was checkpointed but before its rows were durable: at start,
// Heal returns the rows of both contacts of the merge, the lead merged into the survivor
// (the loser's lead with touches 0, the survivor's with all three), so nothing is counted
// twice and nothing is missing, although the replayed events change nothing.
func TestHealAfterAStopMidBatch(t *testing.T) {
	ctx := context.Background()
	db, err := badger.Open(badger.DefaultOptions(t.TempDir()).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	msg := func(id string, at int64, who model.Identity) model.Event {
		return model.Event{Kind: model.KindInbound, Tenant: "t1", WABA: "t1", PhoneNumberID: "pn", ID: id, At: at,
			MessageType: "text", DedupeKey: id, User: who, Referral: &model.Referral{SourceID: "AD1"}}
	}
	u := &unit.Unit{Rec: &unit.Record{Topic: "whatsapp.webhooks"}, Events: []model.Event{
		msg("w1", 100, model.Identity{Phone: "15550002"}),
		msg("w2", 200, model.Identity{BSUID: "US.2"}),
		msg("w3", 300, model.Identity{BSUID: "US.2", Phone: "15550002"}), // the BSUID contact merges into the phone's
	}}
	first := stageOn(t, db, "w")
	if err := first.Process(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := first.Flush(); err != nil { // checkpointed; the stop comes before the rows are durable
		t.Fatal(err)
	}

	rows, refs, err := stageOn(t, db, "w").Heal()
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 2 {
		t.Fatalf("dirty contacts %v, want the two of the merge", refs)
	}
	touches := map[string]uint32{}
	identities := 0
	for _, r := range rows {
		switch r := r.(type) {
		case *model.LeadRow:
			touches[r.ContactID] = r.Touches
		case *model.IdentityRow:
			identities++
		}
	}
	survivor := identity.ContactID("t1", identity.KeyPhone, "15550002")
	loser := identity.ContactID("t1", identity.KeyBSUID, "US.2")
	if identities < 2 || touches[survivor] != 3 || touches[loser] != 0 || len(touches) != 2 {
		t.Fatalf("healed %d identities rows and lead touches %v; want both contacts, %s with 3 touches and %s with 0",
			identities, touches, survivor, loser)
	}
}

// The identity topic keeps only the last snapshot of a contact. When B holds more of a
// contact than the snapshot it imports (here the username B saw after the first import),
// the unit asks for B's own snapshot to be published, naming the contact in its rows; a
// snapshot that holds all B knows asks for nothing.
func TestImportOfAPoorerSnapshotAsksToPublishAgain(t *testing.T) {
	ctx := context.Background()
	a, b := newStage(t, "w_a"), newStage(t, "w_b")
	inbound := func(id, username string, at int64) *unit.Unit {
		return &unit.Unit{Rec: &unit.Record{Topic: "whatsapp.webhooks"}, Events: []model.Event{{Kind: model.KindInbound,
			Tenant: "t1", WABA: "t1", PhoneNumberID: "pn", ID: id, At: at, MessageType: "text", DedupeKey: id,
			User: model.Identity{BSUID: "US.1", Phone: "15550001", Username: username}}}}
	}
	u := inbound("wamid.1", "", 1000)
	if err := a.Process(ctx, u); err != nil || flushed(a) != nil {
		t.Fatal(err)
	}
	snaps, err := a.Identities.Snapshots([]identity.ContactRef{{Tenant: "t1", ID: u.Rows[0].(*model.IdentityRow).ContactID}})
	if err != nil || len(snaps) != 1 {
		t.Fatalf("snapshots %v %v", snaps, err)
	}
	first := replicaUnit(snaps[0].Value, "w_a")
	if err := b.Import(ctx, first); err != nil || first.Republish {
		t.Fatalf("a fresh worker's import: err %v, republish %v", err, first.Republish)
	}
	if err := b.Process(ctx, inbound("wamid.2", "@ana", 2000)); err != nil || flushed(b) != nil {
		t.Fatal(err)
	}
	again := replicaUnit(snaps[0].Value, "w_a") // read again, or published late by A
	if err := b.Import(ctx, again); err != nil {
		t.Fatal(err)
	}
	named := false
	for _, r := range again.Rows {
		if id, ok := r.(*model.IdentityRow); ok && id.Username != nil && *id.Username == "@ana" {
			named = true
		}
	}
	if !again.Republish || !named {
		t.Fatalf("import of a snapshot without B's username: republish %v, rows %v", again.Republish, again.Rows)
	}
}
