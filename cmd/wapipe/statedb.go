package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// memTableSize is the size of the worker's Badger memtables. A level-0 table is a whole
// memtable built in memory, so 8 MB memtables halve those builders too: with 1.1M contacts
// that ran a quarter fewer GC cycles than 16 MB (bench/RESULTS.md).
const memTableSize = 8 << 20

// valueThreshold keeps every value the state writes in the tree: contacts, leads and the
// crash-healing records of a batch's contacts (a few KB) are far below it.
const valueThreshold = 256 << 10

// openState opens the worker's Badger state in dir, creating it the first time.
func openState(dir string) (*badger.DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	// The state holds phone numbers: a private directory keeps every file in it, including
	// those Badger creates later with the umask's mode, away from other users of the host.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, err
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("open state in %s: %w", dir, err)
	}
	err = checkTables(dir, stateOptions(dir, memTableSize))
	unlock() // Badger takes it again
	if err != nil {
		return nil, fmt.Errorf("open state in %s: %w", dir, corruption(err))
	}
	if err := flushLargerMemtables(dir); err != nil {
		return nil, fmt.Errorf("open state in %s: %w", dir, corruption(err))
	}
	db, err := badger.Open(stateOptions(dir, memTableSize))
	if err != nil {
		return nil, fmt.Errorf("open state in %s: %w (is another worker using it?)", dir, corruption(err))
	}
	if err := dropRetired(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open state in %s: %w", dir, err)
	}
	collectValueLog(db)
	if err := privateFiles(dir); err != nil {
		db.Close()
		return nil, fmt.Errorf("open state in %s: %w", dir, err)
	}
	return db, nil
}

// privateFiles makes the state's files 0600 whatever the umask they were created with.
func privateFiles(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() {
			if err := os.Chmod(filepath.Join(dir, e.Name()), 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}

// collectValueLog rewrites the value log files of earlier versions (which sent values over
// 1 KB there) until none is worth rewriting: what is live moves into the tree, the files go.
// Bounded, so a start never waits long on it; the next start goes on.
func collectValueLog(db *badger.DB) {
	for range 16 {
		if db.RunValueLogGC(0.5) != nil { // badger.ErrNoRewrite: nothing (more) to collect
			return
		}
	}
}

// retiredPrefixes are key prefixes that earlier versions wrote and nothing reads any more:
// "dd/" held every event's dedupe key for 8 days (a million keys a million webhooks), which
// the state no longer needs (stages/dedupe). A state directory of such a version is upgraded
// in place: the keys are dropped once, at the first start, and compactions reclaim them.
var retiredPrefixes = []string{"dd/"}

func dropRetired(db *badger.DB) error {
	for _, p := range retiredPrefixes {
		found := false
		err := db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(p)})
			defer it.Close()
			it.Rewind()
			found = it.Valid()
			return nil
		})
		if err != nil {
			return err
		}
		if found {
			if err := db.DropPrefix([]byte(p)); err != nil {
				return fmt.Errorf("drop the retired keys %q: %w", p, err)
			}
		}
	}
	return nil
}

// stateOptions are sized for a bounded footprint whatever the contact count (issue 5, 7):
// two memtables, 16 MB of index cache, two compactors (each holds table builders in memory
// while it works). Values up to valueThreshold stay in the tree, where compactions drop what
// was overwritten; the value log is collected only by RunValueLogGC, which the worker does not
// run while it works, so a value log written on every change grew without bound (1.7 GB a day
// at 1,000 webhooks a second). Tables are 2 MB on every level (Badger doubles them per level
// by default): a compaction holds each table it builds in memory, and Badger keeps up to eight
// spent builders for reuse, so with a million contacts the doubled tables alone kept 385 MB of
// heap live and the GC running without pause (bench/RESULTS.md).
//
// Blocks are not compressed, so there is no block cache: a read is served from the table's
// memory map, where Snappy made every block read a decompression into a new Go buffer (kept
// in a 24 MB cache) and every table build hold both copies. Those buffers were most of the
// heap (217 of 325 MB) and the GC ran at the memory limit; without them the worker spent 43%
// less CPU a webhook, for about half again the disk (45 -> 67 MB for 1M webhooks). Tables an
// earlier version wrote with Snappy stay readable: Badger records each table's compression
// in its manifest, and compactions rewrite them uncompressed.
func stateOptions(dir string, memTable int64) badger.Options {
	opts := badger.DefaultOptions(filepath.Clean(dir)).WithLogger(nil).
		WithMemTableSize(memTable).WithNumMemtables(2).WithIndexCacheSize(16 << 20).
		WithCompression(options.None).WithBlockCacheSize(0).
		WithNumCompactors(2).WithNumLevelZeroTables(3).WithNumLevelZeroTablesStall(8).
		WithValueThreshold(valueThreshold).WithMetricsEnabled(false)
	opts.TableSizeMultiplier = 1
	return opts
}

// flushLargerMemtables empties the write-ahead memtable files that a worker with larger
// memtables left behind when it stopped without closing (a crash, a kill). Badger replays
// such a file into a memtable of today's size and fails ("Arena too small"), so the state
// is opened once with the size the files were made for (Badger makes them twice the
// memtable size) and closed, which writes them out as level-0 tables.
func flushLargerMemtables(dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.mem"))
	if err != nil {
		return err
	}
	var largest int64
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			largest = max(largest, fi.Size())
		}
	}
	if largest/2 <= memTableSize {
		return nil
	}
	db, err := badger.Open(stateOptions(dir, largest/2))
	if err != nil {
		return fmt.Errorf("flush the memtables of %d MB left by an earlier worker: %w", largest>>21, err)
	}
	return db.Close()
}
