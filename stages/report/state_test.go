package report

import (
	"errors"
	"fmt"
	"testing"

	"github.com/wapipe/wapipe/state"
)

// A failed event leaves nothing behind, in the state or in the memory in front of it: the
// batch's open changes are discarded, and a later event never reads them.
func TestAFailedEventLeavesNothingInMemory(t *testing.T) {
	db := openDB(t)
	b, err := New(db, Config{State: state.Open(db)})
	if err != nil {
		t.Fatal(err)
	}
	k := windowKey(1, windowMsg, "t1", "wamid.1")
	read := func() (string, bool) {
		var got []byte
		err := b.view(func(txn tx) error {
			_, err := txn.get(k, func(v []byte) error { got = v; return nil })
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return string(got), got != nil
	}
	failed := errors.New("the event failed midway")
	if err := b.update(0, func(txn tx) error {
		if err := txn.set(k, []byte("discarded")); err != nil {
			return err
		}
		return failed
	}); !errors.Is(err, failed) {
		t.Fatalf("update returned %v", err)
	}
	if v, found := read(); found {
		t.Fatalf("a discarded write was served: %q", v)
	}
	if err := b.update(0, func(txn tx) error { return txn.set(k, []byte("kept")) }); err != nil {
		t.Fatal(err)
	}
	if v, found := read(); !found || v != "kept" {
		t.Fatalf("got %q, %v; want the state written", v, found)
	}
	if err := b.update(0, func(txn tx) error { return txn.delete(k) }); err != nil {
		t.Fatal(err)
	}
	if v, found := read(); found {
		t.Fatalf("a deleted state was served: %q", v)
	}
}

// The memory in front of Badger never hides state: not state stored before the builder
// started (a restart), and not while more states pour in than it holds.
func TestMemoNeverHidesStoredState(t *testing.T) {
	db := openDB(t)
	before, err := New(db, Config{State: state.Open(db)})
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
		if err := endBatch(b); err != nil {
			t.Fatal(err)
		}
	}
	write(before, 0, 100)
	after, err := New(db, Config{State: state.Open(db)}) // a restart: the filter comes from Badger
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
