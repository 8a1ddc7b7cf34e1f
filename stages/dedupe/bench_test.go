package dedupe

import (
	"fmt"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// benchKeys is how many keys are remembered before timing: a worker's seen-set holds every
// event of the last 8 days, so lookups go through a store of some size, not an empty memtable.
const benchKeys = 200_000

// benchDB opens Badger with the worker's settings (cmd/wapipe/run.go openState), which the
// seen-set shares with identity and report state.
func benchDB(b *testing.B) *badger.DB {
	b.Helper()
	opts := badger.DefaultOptions(b.TempDir()).WithLogger(nil).
		WithMemTableSize(32 << 20).WithBlockCacheSize(64 << 20).WithIndexCacheSize(32 << 20).
		WithNumMemtables(3).WithValueThreshold(1 << 10)
	db, err := badger.Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// key has the shape of a status's dedupe key: a wamid (about 60 bytes) and the status.
func key(i int) string {
	return fmt.Sprintf("wamid.HBgLMTU1NTAxMDAwMDAVAgARGBI%024dAA=|delivered", i)
}

// preloaded returns a set with benchKeys keys remembered, in batches as the pipeline stores them.
func preloaded(b *testing.B) *Set {
	b.Helper()
	s := newSet(b, benchDB(b))
	batch := make([]string, 0, 5000)
	for i := range benchKeys {
		batch = append(batch, key(i))
		if len(batch) == cap(batch) {
			if err := s.Remember(batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	return s
}

// ring is keys made before timing, so the loop measures Seen and not fmt.
func ring(from int) []string {
	keys := make([]string, 1<<16)
	for i := range keys {
		keys[i] = key(from + i)
	}
	return keys
}

// The usual case: a new event, whose key is in neither the in-flight map nor the store.
func BenchmarkSeenMiss(b *testing.B) {
	s := preloaded(b)
	keys := ring(benchKeys)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if seen, err := s.Seen(keys[i%len(keys)]); err != nil || seen {
			b.Fatal(seen, err)
		}
	}
}

// A Meta re-delivery days later: the key is on disk.
func BenchmarkSeenHitStored(b *testing.B) {
	s := preloaded(b)
	keys := ring(0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if seen, err := s.Seen(keys[i%len(keys)]); err != nil || !seen {
			b.Fatal(seen, err)
		}
	}
}

// A re-delivery while the first copy is still in flight: answered from the pending map.
func BenchmarkSeenHitInFlight(b *testing.B) {
	s := newSet(b, benchDB(b))
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = key(i)
		s.Hold(keys[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if seen, err := s.Seen(keys[i%len(keys)]); err != nil || !seen {
			b.Fatal(seen, err)
		}
	}
}

// Hold then Remember in batches of 5000, as a durable batch does; reported per key.
func BenchmarkHoldRemember5000(b *testing.B) {
	s := preloaded(b)
	batch := make([]string, 0, 5000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := key(benchKeys + i)
		s.Hold(k)
		batch = append(batch, k)
		if len(batch) == cap(batch) || i == b.N-1 {
			if err := s.Remember(batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}
