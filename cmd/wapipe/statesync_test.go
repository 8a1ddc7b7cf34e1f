package main

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/wapipe/wapipe/identity"
	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/state"
	"github.com/wapipe/wapipe/unit"
)

// Badger runs with SyncWrites off, so the state a batch committed sits in the page cache until
// something syncs it, while the batch's offsets are committed to Kafka once afterDurable
// returns: a power loss would leave the state behind the committed offsets and lose those
// facts for good. So afterDurable syncs the state once a batch (not once an event), after the
// batch's state was committed, and a failed sync stops the batch from being acknowledged.
func TestStateIsSyncedBeforeABatchIsAcknowledged(t *testing.T) {
	dir := t.TempDir()
	db, err := openState(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	proc := workerStage(t, db)
	seen := proc.Seen

	var syncs int
	var failWith error
	var inStateAtSync []bool // per sync: is the batch's last contact in the committed state
	var lastPhone string
	sync := func() error {
		syncs++
		inStateAtSync = append(inStateAtSync, contactKnown(t, db, lastPhone))
		if failWith != nil {
			return failWith
		}
		return syncState(db, dir)
	}
	done := afterDurable(nil, seen, proc, eraseAgain{}, sync)
	ctx := context.Background()

	batch := func(n, from int) []*unit.Unit {
		var units []*unit.Unit
		for i := range n {
			lastPhone = fmt.Sprintf("1555000%04d", from+i)
			u := &unit.Unit{Rec: &unit.Record{Topic: "whatsapp.webhooks"}, Events: []model.Event{{
				Kind: model.KindInbound, Tenant: "t1", WABA: "t1", PhoneNumberID: "pn", ID: lastPhone, At: 1000,
				MessageType: "text", DedupeKey: lastPhone, User: model.Identity{Phone: lastPhone},
			}}}
			if err := proc.Process(ctx, u); err != nil {
				t.Fatal(err)
			}
			units = append(units, u)
		}
		if err := proc.Flush(); err != nil {
			t.Fatal(err)
		}
		return units
	}

	if err := done(ctx, batch(50, 0)); err != nil {
		t.Fatal(err)
	}
	if err := done(ctx, batch(50, 50)); err != nil {
		t.Fatal(err)
	}
	if syncs != 2 {
		t.Fatalf("%d state syncs for two batches of 50 events, want 2 (one a batch)", syncs)
	}
	for i, ok := range inStateAtSync {
		if !ok {
			t.Errorf("sync %d ran before its batch's state was committed", i+1)
		}
	}
	failWith = errors.New("disk full")
	if err := done(ctx, batch(1, 100)); !errors.Is(err, failWith) {
		t.Fatalf("afterDurable with a failing sync returned %v, want the sync's error (the batch must not be acknowledged)", err)
	}
}

// contactKnown says whether the committed state resolves phone to a contact.
func contactKnown(t *testing.T, db *badger.DB, phone string) bool {
	t.Helper()
	ids := identity.NewWithConfig(db, identity.Config{State: state.Open(db)}) // reads Badger: what was checkpointed
	_, ok, err := ids.Lookup("t1", identity.KeyPhone, phone)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// The cost of the sync a batch: a batch's worth of state writes (about 10,000 keys of
// 200 bytes; a 25,000-row batch changes fewer contacts than that) with and without it.
func BenchmarkBatchWithStateSync(b *testing.B) {
	for _, synced := range []bool{false, true} {
		b.Run(fmt.Sprintf("sync=%v", synced), func(b *testing.B) {
			dir := b.TempDir()
			db, err := openState(dir)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			value := make([]byte, 200)
			n := 0
			for b.Loop() {
				wb := db.NewWriteBatch()
				for range 10_000 {
					n++
					if err := wb.Set(fmt.Appendf(nil, "id/k/%012d", n), value); err != nil {
						b.Fatal(err)
					}
				}
				if err := wb.Flush(); err != nil {
					b.Fatal(err)
				}
				if synced {
					if err := syncState(db, dir); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
