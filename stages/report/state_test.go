package report

import (
	"fmt"
	"testing"
)

// A write is served from memory only once its transaction committed: a discarded
// transaction's state must never reach a later event.
func TestMemoServesOnlyCommittedWrites(t *testing.T) {
	db := openDB(t)
	m := newMemo()
	k := windowKey(1, windowMsg, "t1", "wamid.1")
	read := func() (string, bool) {
		txn := db.NewTransaction(false)
		defer txn.Discard()
		var got []byte
		found, err := tx{txn: txn, memo: m}.get(k, func(b []byte) error { got = b; return nil })
		if err != nil {
			t.Fatal(err)
		}
		return string(got), found
	}

	txn := db.NewTransaction(true)
	if err := (tx{txn: txn, memo: m}).set(k, []byte("discarded")); err != nil {
		t.Fatal(err)
	}
	txn.Discard()
	m.discarded()
	if v, found := read(); found {
		t.Fatalf("a discarded write was served: %q", v)
	}

	txn = db.NewTransaction(true)
	if err := (tx{txn: txn, memo: m}).set(k, []byte("kept")); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	m.committed()
	if v, found := read(); !found || v != "kept" {
		t.Fatalf("after commit got %q, %v; want the committed state", v, found)
	}

	txn = db.NewTransaction(true)
	if err := (tx{txn: txn, memo: m}).delete(k); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	m.committed()
	if v, found := read(); found {
		t.Fatalf("a deleted state was served: %q", v)
	}
}

// The memory in front of Badger never hides state: not state stored before the builder
// started (a restart), and not while more states pour in than it holds.
func TestMemoNeverHidesStoredState(t *testing.T) {
	db := openDB(t)
	before, err := New(db, Config{Deferred: true})
	if err != nil {
		t.Fatal(err)
	}
	k := func(i int) []byte { return key(pfxLead, "t1", fmt.Sprint("c", i), "AD") }
	write := func(b *Builder, from, to int) {
		for i := from; i < to; i++ {
			if err := b.update(0, func(txn tx) error { return txn.set(k(i), []byte{formatV1, byte(i)}) }); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	write(before, 0, 100)
	after, err := New(db, Config{Deferred: true}) // a restart: the filter comes from Badger
	if err != nil {
		t.Fatal(err)
	}
	readAll := func(n int) {
		for i := 0; i < n; i++ {
			var got []byte
			err := after.update(0, func(txn tx) error {
				_, err := txn.get(k(i), func(b []byte) error { got = b; return nil })
				return err
			})
			if err != nil || len(got) != 2 || got[1] != byte(i) {
				t.Fatalf("state %d: got %v, %v", i, got, err)
			}
		}
	}
	readAll(100)
	write(after, 100, 2*hotStates) // more than the memo holds
	readAll(2 * hotStates)
}
