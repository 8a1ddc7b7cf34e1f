package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// A worker that ran with 16 MB memtables and was killed leaves them in its write-ahead files;
// today's worker opens that state and finds every key, instead of Badger failing to replay
// a 16 MB file into an 8 MB memtable.
func TestStateLeftWithLargerMemtablesOpens(t *testing.T) {
	const keys = 100_000 // about 11 MB: more than an 8 MB memtable holds, less than 16 MB
	if dir := os.Getenv("WAPIPE_TEST_KILLED_WRITER"); dir != "" {
		db, err := badger.Open(stateOptions(dir, 16<<20))
		if err != nil {
			panic(err)
		}
		for i := range keys {
			if err := db.Update(func(txn *badger.Txn) error {
				return txn.Set(fmt.Appendf(nil, "k%06d", i), make([]byte, 100))
			}); err != nil {
				panic(err)
			}
		}
		os.Exit(0) // no Close: the keys are only in the memtable's write-ahead file
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestStateLeftWithLargerMemtablesOpens$")
	cmd.Env = append(os.Environ(), "WAPIPE_TEST_KILLED_WRITER="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("writer: %v\n%s", err, out)
	}
	db, err := openState(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	found := 0
	_ = db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			found++
		}
		return nil
	})
	if found != keys {
		t.Fatalf("found %d of the %d keys the killed worker wrote", found, keys)
	}
}

// A state directory written by a version that stored every dedupe key ("dd/") opens with
// those keys gone and everything else kept.
func TestRetiredDedupeKeysAreDroppedAtOpen(t *testing.T) {
	dir := t.TempDir()
	db, err := openState(dir)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(txn *badger.Txn) error {
		for i := range 1000 {
			if err := txn.Set(fmt.Appendf(nil, "dd/wamid.%d", i), nil); err != nil {
				return err
			}
		}
		return txn.Set([]byte("id/c/contact"), []byte("kept"))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = openState(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(prefix string) (n int) {
		_ = db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				n++
			}
			return nil
		})
		return n
	}
	if n := count("dd/"); n != 0 {
		t.Fatalf("%d retired dedupe keys are left", n)
	}
	if n := count("id/"); n != 1 {
		t.Fatalf("the contact was dropped with the dedupe keys (%d id/ keys)", n)
	}
}

// Values of the sizes the state writes (a contact, a lead, a batch's crash-healing record:
// up to a few KB) stay in the tree, where compactions reclaim what was overwritten, not in
// the value log, which nothing collects while the worker runs.
func TestStateValuesStayOutOfTheValueLog(t *testing.T) {
	dir := t.TempDir()
	db, err := openState(dir)
	if err != nil {
		t.Fatal(err)
	}
	value := make([]byte, 4<<10)
	for round := range 20 {
		wb := db.NewWriteBatch()
		for i := range 1000 {
			value[0] = byte(round)
			if err := wb.Set(fmt.Appendf(nil, "id/c/%04d", i), value); err != nil {
				t.Fatal(err)
			}
		}
		if err := wb.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil { // trims the value log file to what was written
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.vlog"))
	var vlog int64
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			vlog += fi.Size()
		}
	}
	if vlog > 1<<20 {
		t.Fatalf("80 MB of 4 KB values left %d MB in the value log", vlog>>20)
	}
}

// A state an earlier version wrote with Snappy-compressed tables opens as it is, and every
// key reads back its value: today's tables are not compressed, and the start's table check
// reads each old table with the compression its manifest records, so the state is neither
// taken for corrupt (and moved aside) nor misread.
func TestStateWithSnappyTablesOpens(t *testing.T) {
	dir := t.TempDir()
	old := stateOptions(dir, memTableSize).WithCompression(options.Snappy).WithBlockCacheSize(24 << 20)
	db, err := badger.Open(old)
	if err != nil {
		t.Fatal(err)
	}
	value := func(i int) []byte { return fmt.Appendf(nil, "contact %d: %0200d", i, i) }
	const keys = 20_000
	wb := db.NewWriteBatch()
	for i := range keys {
		if err := wb.Set(fmt.Appendf(nil, "id/c/%06d", i), value(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := wb.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil { // writes the memtable out as a Snappy table
		t.Fatal(err)
	}
	if tables, _ := filepath.Glob(filepath.Join(dir, "*.sst")); len(tables) == 0 {
		t.Fatal("the old state has no table to read")
	}

	db, err = openState(dir)
	if err != nil {
		t.Fatalf("the old state does not open: %v", err)
	}
	defer db.Close()
	err = db.View(func(txn *badger.Txn) error {
		for i := range keys {
			item, err := txn.Get(fmt.Appendf(nil, "id/c/%06d", i))
			if err != nil {
				return fmt.Errorf("key %d: %w", i, err)
			}
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			if string(v) != string(value(i)) {
				return fmt.Errorf("key %d reads %q", i, v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
