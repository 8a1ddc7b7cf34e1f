package identity

import badger "github.com/dgraph-io/badger/v4"

// BadgerOptions are Badger settings that suit the identity workload (small values,
// point reads, frequent small commits) on a small machine; the caller may use them for
// the DB it shares between packages. Memory stays near MemTableSize*NumMemtables plus
// the block cache: 3x16 MB + 64 MB. Values stay in the LSM tree (the default threshold),
// so a read is one lookup and the value log never needs garbage collection. Badger
// logs nothing: its INFO lines about compactions are noise in a worker's output.
func BadgerOptions(dir string) badger.Options {
	return badger.DefaultOptions(dir).
		WithLogger(nil).
		WithMemTableSize(16 << 20).
		WithNumMemtables(3).
		WithNumLevelZeroTables(3).
		WithNumLevelZeroTablesStall(8).
		WithBlockCacheSize(64 << 20).
		WithNumCompactors(2).
		WithMetricsEnabled(false)
}
