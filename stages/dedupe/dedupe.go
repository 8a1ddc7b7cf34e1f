// Package dedupe skips webhook events the worker counted a moment ago, so the common
// redelivery (Meta's retries, Kafka's re-reads after a rebalance) costs no identity or report
// work and no ClickHouse row.
//
// It is an optimisation, not what makes counts exact: the report and identity state are
// idempotent (a status already applied returns the same rows with the same versions, a
// referral already touched is not counted again, an identity fact older than what is known
// changes nothing), so an event the set has forgotten is processed again and still counted
// once. That is why the set may forget and why it lives in memory only:
//
//   - its size is fixed (Config.Keys remembered keys in two generations, allocated once), so
//     it grows neither with traffic nor with time, and a restart starts it empty;
//   - a key counts as seen while its record is in flight (Hold), so the same event twice in
//     one batch is applied once; it is remembered only once its rows are durable, and never
//     for a record that went to the dead-letter topic, so a dead letter sent again after its
//     cause is removed is processed, not dropped;
//   - keys are 128-bit hashes, so a false "seen" (which would skip a valid event) needs a
//     collision of two 128-bit hashes.
package dedupe

import (
	"hash/maphash"
	"sync"
)

// DefaultKeys is how many durable keys the set remembers by default: 32 MB, and at
// 10,000 events a second the last 100 seconds, which covers Kafka's re-reads after a crash
// or rebalance and Meta's quick retries.
const DefaultKeys = 1 << 20

// Config sizes the set.
type Config struct {
	// Keys is how many durable keys are remembered (the newest; DefaultKeys when 0).
	Keys int
}

// Key is an event's dedupe key as the set stores it: two 64-bit hashes of the string.
type Key = [2]uint64

type hash = Key

// Set is the seen-set. Safe for concurrent use.
type Set struct {
	seeds [2]maphash.Seed
	half  int // keys a generation holds before it turns over

	mu      sync.Mutex
	pending map[hash]int32 // keys in flight: processed, not yet durable (count of holders)
	young   *generation
	old     *generation
}

// New returns an empty set.
func New(cfg Config) *Set {
	n := cfg.Keys
	if n <= 0 {
		n = DefaultKeys
	}
	half := max(n/2, 1)
	return &Set{
		seeds:   [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		half:    half,
		pending: map[hash]int32{},
		young:   newGeneration(half),
		old:     newGeneration(half),
	}
}

// Key hashes an event's dedupe key (model.Event.DedupeKey) with this set's seeds.
func (s *Set) Key(key string) Key {
	return Key{maphash.String(s.seeds[0], key), maphash.String(s.seeds[1], key)}
}

// Seen reports whether h was counted recently: remembered, or held by a record in flight.
func (s *Set) Seen(h Key) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.pending[h]; ok {
		return true
	}
	return s.young.has(h) || s.old.has(h)
}

// Hold marks h as counted by a record in flight.
func (s *Set) Hold(h Key) {
	s.mu.Lock()
	s.pending[h]++
	s.mu.Unlock()
}

// Remember records keys whose rows are now durable and releases their hold. When the young
// generation is full it becomes the old one and the oldest keys are forgotten.
func (s *Set) Remember(keys []Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range keys {
		s.releaseLocked(h)
		if s.young.n >= s.half {
			s.old.reset() // keeps its room: the two generations trade places, nothing is allocated
			s.old, s.young = s.young, s.old
		}
		s.young.add(h)
	}
}

// Forget releases holds without remembering: the record went to the dead-letter topic, or
// will be read again.
func (s *Set) Forget(keys []Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range keys {
		s.releaseLocked(h)
	}
}

func (s *Set) releaseLocked(h hash) {
	if s.pending[h] <= 1 {
		delete(s.pending, h)
	} else {
		s.pending[h]--
	}
}

// Len is how many durable keys the set remembers now (at most Config.Keys).
func (s *Set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.young.n + s.old.n
}
