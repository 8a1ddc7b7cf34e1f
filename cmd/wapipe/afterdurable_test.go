package main

import (
	"context"
	"testing"

	"github.com/wapipe/wapipe/identity"
	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/pipeline"
	"github.com/wapipe/wapipe/stages/dedupe"
	"github.com/wapipe/wapipe/stages/process"
	"github.com/wapipe/wapipe/stages/report"
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
	seen := dedupe.New(dedupe.Config{})
	reports, err := report.New(db, report.Config{Deferred: true})
	if err != nil {
		t.Fatal(err)
	}
	ids := identity.NewWithConfig(db, identity.Config{Deferred: true})
	proc := &process.Stage{Seen: seen, Identities: ids, Reports: reports, Self: "w_test"}
	done := afterDurable(nil, seen, proc, eraseAgain{})
	ctx := context.Background()

	unit := func(id string) *pipeline.Unit {
		return &pipeline.Unit{Rec: &pipeline.Record{Topic: "whatsapp.webhooks"}, Events: []model.Event{{
			Kind: model.KindInbound, Tenant: "t1", WABA: "t1", PhoneNumberID: "pn", ID: id, At: 1000,
			MessageType: "text", DedupeKey: id, User: model.Identity{BSUID: "US.1", Phone: "15550001"},
		}}}
	}
	chatRows := func(u *pipeline.Unit) (n int) {
		for _, r := range u.Rows {
			if _, ok := r.(*model.ChatRow); ok {
				n++
			}
		}
		return n
	}
	batch := func(u *pipeline.Unit, rejected bool) {
		t.Helper()
		if err := proc.Process(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := proc.Flush(); err != nil {
			t.Fatal(err)
		}
		if rejected {
			u.Reject("sink", "chat_report rejected a row")
		}
		if err := done(ctx, []*pipeline.Unit{u}); err != nil {
			t.Fatal(err)
		}
	}

	batch(unit("wamid.dead"), true)
	again := unit("wamid.dead")
	batch(again, false)
	if chatRows(again) != 1 {
		t.Fatalf("the dead letter sent again gave %d chat rows, want 1", chatRows(again))
	}

	batch(unit("wamid.ok"), false)
	redelivered := unit("wamid.ok")
	batch(redelivered, false)
	if len(redelivered.Rows) != 0 {
		t.Fatalf("a redelivered record whose rows were durable gave %d rows, want none", len(redelivered.Rows))
	}
}
