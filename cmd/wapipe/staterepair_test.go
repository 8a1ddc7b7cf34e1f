package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// stateWithTables makes a closed state holding written tables.
func stateWithTables(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "state")
	db, err := openState(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		wb := db.NewWriteBatch()
		for j := range 20_000 {
			if err := wb.Set(fmt.Appendf(nil, "id/k/%d/%d", i, j), make([]byte, 100)); err != nil {
				t.Fatal(err)
			}
		}
		if err := wb.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// garble flips bits all over every file of dir matching pattern.
func garble(t *testing.T, dir, pattern string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, pattern))
	if len(files) == 0 {
		t.Fatalf("no %s in %s", pattern, dir)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(b); i += 7 {
			b[i] ^= 0x5a
		}
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// Whatever file of the state is corrupt, the worker opens a fresh state in its place and
// keeps the corrupt one beside it; a torn table (which Badger's own open turns into a panic
// on a goroutine of its, killing the worker) included.
func TestCorruptStateIsMovedAsideAndStartsFresh(t *testing.T) {
	for _, file := range []string{"MANIFEST", "*.sst", "KEYREGISTRY", "*.vlog"} {
		t.Run(file, func(t *testing.T) {
			dir := stateWithTables(t)
			garble(t, dir, file)
			db, err := openOrRebuildState(dir, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatalf("a corrupt %s: %v", file, err)
			}
			defer db.Close()
			if err := db.View(func(txn *badger.Txn) error {
				it := txn.NewIterator(badger.DefaultIteratorOptions)
				defer it.Close()
				if it.Rewind(); it.Valid() {
					return fmt.Errorf("the fresh state holds %q", it.Item().Key())
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			aside, _ := filepath.Glob(dir + ".corrupt-*")
			if len(aside) != 1 {
				t.Fatalf("moved aside: %v, want one directory", aside)
			}
			if kept, _ := filepath.Glob(filepath.Join(aside[0], file)); len(kept) == 0 {
				t.Errorf("the corrupt %s was not kept in %s", file, aside[0])
			}
		})
	}
}

// A state another worker has open is not corrupt: it is never moved, and the open fails.
func TestStateInUseIsNotMovedAside(t *testing.T) {
	dir := stateWithTables(t)
	db, err := openState(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if other, err := openOrRebuildState(dir, slog.New(slog.DiscardHandler)); err == nil {
		other.Close()
		t.Fatal("a second worker opened a state in use")
	}
	if aside, _ := filepath.Glob(dir + ".corrupt-*"); len(aside) != 0 {
		t.Fatalf("a state in use was moved aside to %v", aside)
	}
}
