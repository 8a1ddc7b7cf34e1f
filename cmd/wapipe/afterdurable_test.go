package main

import (
	"context"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/wapipe/wapipe/identity"
	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/stages/dedupe"
	"github.com/wapipe/wapipe/stages/process"
	"github.com/wapipe/wapipe/stages/report"
	"github.com/wapipe/wapipe/state"
	"github.com/wapipe/wapipe/unit"
)

// A record that went to the dead-letter topic (here: ClickHouse rejected its row) and is sent
// again once the cause is removed is processed again and gives its rows, instead of being
// skipped as a duplicate; a record whose rows were durable is skipped when redelivered.
func TestDeadLetterSentAgainIsProcessed(t *testing.T) {
	db, err := openState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	proc := workerStage(t, db)
	seen := proc.Seen
	done := afterDurable(nil, seen, proc, eraseAgain{}, db.Sync)
	ctx := context.Background()

	inbound := func(id string) *unit.Unit {
		return &unit.Unit{Rec: &unit.Record{Topic: "whatsapp.webhooks"}, Events: []model.Event{{
			Kind: model.KindInbound, Tenant: "t1", WABA: "t1", PhoneNumberID: "pn", ID: id, At: 1000,
			MessageType: "text", DedupeKey: id, User: model.Identity{BSUID: "US.1", Phone: "15550001"},
		}}}
	}
	chatRows := func(u *unit.Unit) (n int) {
		for _, r := range u.Rows {
			if _, ok := r.(*model.ChatRow); ok {
				n++
			}
		}
		return n
	}
	batch := func(u *unit.Unit, rejected bool) {
		t.Helper()
		if err := proc.Process(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := proc.Flush(); err != nil {
			t.Fatal(err)
		}
		if rejected {
			u.Reject("sink", unit.ReasonRowRejected, "chat_report rejected a row")
		}
		if err := done(ctx, []*unit.Unit{u}); err != nil {
			t.Fatal(err)
		}
	}

	batch(inbound("wamid.dead"), true)
	again := inbound("wamid.dead")
	batch(again, false)
	if chatRows(again) != 1 {
		t.Fatalf("the dead letter sent again gave %d chat rows, want 1", chatRows(again))
	}

	batch(inbound("wamid.ok"), false)
	redelivered := inbound("wamid.ok")
	batch(redelivered, false)
	if len(redelivered.Rows) != 0 {
		t.Fatalf("a redelivered record whose rows were durable gave %d rows, want none", len(redelivered.Rows))
	}
}

// workerStage is the process stage as runWorker builds it on db: one state for both stores.
func workerStage(t *testing.T, db *badger.DB) *process.Stage {
	t.Helper()
	st := state.Open(db)
	reports, err := report.New(db, report.Config{State: st})
	if err != nil {
		t.Fatal(err)
	}
	return &process.Stage{Seen: dedupe.New(dedupe.Config{}), Identities: identity.NewWithConfig(db, identity.Config{State: st}),
		Reports: reports, State: st, Self: "w_test"}
}
