package keyfilter

import (
	"fmt"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// The filter never denies a key that was stored before Load or added after it, and it says
// when it has outgrown its room.
func TestFilterNeverDeniesAKey(t *testing.T) {
	defer func(n uint) { MinKeys = n }(MinKeys)
	MinKeys = 64
	db, err := badger.Open(badger.DefaultOptions(t.TempDir()).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(txn *badger.Txn) error {
		for i := range 50 {
			if err := txn.Set(fmt.Appendf(nil, "p/stored%d", i), nil); err != nil {
				return err
			}
		}
		return txn.Set([]byte("q/other"), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := Load(db, "p/")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if !f.MayHoldString(fmt.Sprint("stored", i)) {
			t.Fatalf("stored key %d denied after Load", i)
		}
	}
	for i := range 100 {
		f.Add(fmt.Appendf(nil, "added%d", i))
	}
	for i := range 100 {
		if !f.MayHold(fmt.Appendf(nil, "added%d", i)) {
			t.Fatalf("added key %d denied", i)
		}
	}
	if !f.Full() {
		t.Fatalf("150 keys in a filter sized for %d: want Full", f.capacity)
	}
	denied := 0
	for i := range 1000 {
		if !f.MayHoldString(fmt.Sprint("never", i)) {
			denied++
		}
	}
	if denied < 500 {
		t.Fatalf("only %d of 1000 keys never stored were denied: the filter does not filter", denied)
	}
}
