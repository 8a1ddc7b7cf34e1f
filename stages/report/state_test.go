package report

import (
	"testing"
)

// A write is served from memory only once its transaction committed: a discarded
// transaction's state must never reach a later event.
func TestMemoServesOnlyCommittedWrites(t *testing.T) {
	db := openDB(t)
	m := newMemo()
	k := key(pfxMsg, "t1", "wamid.1")
	read := func() (string, bool) {
		txn := db.NewTransaction(false)
		defer txn.Discard()
		var got []byte
		found, err := tx{txn, m}.get(k, func(b []byte) error { got = b; return nil })
		if err != nil {
			t.Fatal(err)
		}
		return string(got), found
	}

	txn := db.NewTransaction(true)
	if err := (tx{txn, m}).setTTL(k, []byte("discarded")); err != nil {
		t.Fatal(err)
	}
	txn.Discard()
	m.discarded()
	if v, found := read(); found {
		t.Fatalf("a discarded write was served: %q", v)
	}

	txn = db.NewTransaction(true)
	if err := (tx{txn, m}).set(k, []byte("kept")); err != nil {
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
	if err := (tx{txn, m}).delete(k); err != nil {
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
