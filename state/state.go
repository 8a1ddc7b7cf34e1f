// Package state is the worker's local state: a Badger database, and above it, in memory, the
// changes not yet checkpointed.
//
// What it promises:
//   - Reads see every change made so far: the newest change of a key wins.
//   - Nothing is written to Badger per event. The changes made between two Seals are one
//     batch; Checkpoint writes the oldest sealed batch in one WriteBatch (a key changed many
//     times in a batch is written once), so the owners of the state (identity, report) commit
//     together or not at all.
//   - The last two checkpointed batches stay in memory after their write and answer reads of
//     their keys as Badger would (DeleteNow and DropPrefix reach them too): those are the keys
//     read next, and each read is a Badger lookup saved.
//   - One goroutine writes at a time (Set, Delete, Put, Discard, Seal); Get, Scan and Seek
//     may run beside it, and Checkpoint from another goroutine.
//
// The worker checkpoints each batch as it leaves for ClickHouse, before its rows are durable,
// with a record of the contacts it changed (identity's dirty records) to heal after a crash.
// Checkpointing only once the rows are durable, as Kafka Streams does with its sinks, would let
// a replay recompute the rows instead; but a replay interleaves the partitions in another
// order, and a contact's id depends on the order its keys were met (identity/dirty.go).
package state

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Store is the state over one Badger database. Keys of different owners must not overlap
// (each owner keeps its own prefix).
type Store struct {
	db *badger.DB

	mu     sync.RWMutex
	open   *changes   // since the last Seal
	sealed []*changes // sealed, not yet checkpointed, oldest first
	recent []*changes // the last keepRecent checkpointed batches, oldest first: what Badger holds for their keys

	checkpointing sync.Mutex // one Checkpoint or DropPrefix at a time
}

// changes is one batch's writes: the value of each key it set, or a deletion.
type changes struct {
	m map[string]change
}

type change struct {
	value   []byte
	deleted bool
}

func newChanges() *changes { return &changes{m: map[string]change{}} }

// keepRecent is how many checkpointed batches stay in memory after their write. Their keys are
// the ones read next (the snapshots of a batch's contacts once it is durable, the contacts and
// messages of an ongoing conversation), and each such read served from memory is a Badger read
// saved (a transaction, the memtables' skiplists, each level's filters).
const keepRecent = 2

// Open returns the state over db. The caller opened db and closes it after the last call.
func Open(db *badger.DB) *Store { return &Store{db: db, open: newChanges()} }

// DB is the database below, for the owners' one-time upgrades and for what is not batch
// state (the worker's id, saved offsets).
func (s *Store) DB() *badger.DB { return s.db }

// Get calls fn with the key's newest value and reports whether the key exists. fn must not
// keep the slice past its return unless it copies it.
func (s *Store) Get(key []byte, fn func(value []byte) error) (bool, error) {
	if c, ok := s.pending(key); ok {
		return c.read(fn)
	}
	return s.GetCheckpointed(key, fn)
}

// read calls fn with the change's value, unless the change is a deletion.
func (c change) read(fn func(value []byte) error) (bool, error) {
	if c.deleted {
		return false, nil
	}
	return true, fn(c.value)
}

func (s *Store) getBadger(key []byte, fn func(value []byte) error) (bool, error) {
	found := false
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(key)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		return item.Value(fn)
	})
	return found, err
}

// GetCheckpointed is Get of what Badger holds, without the changes not yet checkpointed. The
// worker publishes its snapshots from it, so that another worker never learns a change of the
// batch still being processed (whose rows a crash could take back).
func (s *Store) GetCheckpointed(key []byte, fn func(value []byte) error) (bool, error) {
	s.mu.RLock()
	c, ok := newest(key, s.recent) // what Badger holds for the kept batches' keys
	s.mu.RUnlock()
	if ok {
		return c.read(fn)
	}
	return s.getBadger(key, fn)
}

// pending returns the newest change of key not yet checkpointed.
func (s *Store) pending(key []byte) (change, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if c, ok := s.open.m[string(key)]; ok {
		return c, true
	}
	return newest(key, s.sealed)
}

// newest returns the change of key in the newest of batches (oldest first) that has one.
func newest(key []byte, batches []*changes) (change, bool) {
	for i := len(batches) - 1; i >= 0; i-- {
		if c, ok := batches[i].m[string(key)]; ok {
			return c, true
		}
	}
	return change{}, false
}

// Set gives key a new value. The store keeps value: the caller must not change it afterwards.
func (s *Store) Set(key, value []byte) {
	s.mu.Lock()
	s.open.m[string(key)] = change{value: value}
	s.mu.Unlock()
}

// Delete removes key.
func (s *Store) Delete(key []byte) {
	s.mu.Lock()
	s.open.m[string(key)] = change{deleted: true}
	s.mu.Unlock()
}

// Write is one change for Put.
type Write struct {
	Key, Value []byte // the store keeps Value, as with Set
	Delete     bool
}

// Put makes the changes at once: a reader sees all of them or none. Later ones win.
func (s *Store) Put(ws []Write) {
	if len(ws) == 0 {
		return
	}
	s.mu.Lock()
	for _, w := range ws {
		s.open.m[string(w.Key)] = change{value: w.Value, deleted: w.Delete}
	}
	s.mu.Unlock()
}

// Discard forgets every change since the last Seal: the caller failed midway through a
// batch and will not make its rows durable (the pipeline stops and re-reads the records).
func (s *Store) Discard() {
	s.mu.Lock()
	s.open = newChanges()
	s.mu.Unlock()
}

// Seal ends the batch: its changes wait for Checkpoint. Seal and Checkpoint pair up one to
// one, in order, even for a batch that changed nothing.
func (s *Store) Seal() {
	s.mu.Lock()
	s.sealed = append(s.sealed, s.open)
	s.open = newChanges()
	s.mu.Unlock()
}

// Sealed is how many sealed batches wait for their Checkpoint.
func (s *Store) Sealed() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.sealed)
}

// Checkpoint writes the oldest sealed batch to Badger, then stops holding it in memory.
// Readers see its changes throughout: in memory until Badger has them.
func (s *Store) Checkpoint() error {
	s.checkpointing.Lock()
	defer s.checkpointing.Unlock()
	s.mu.RLock()
	if len(s.sealed) == 0 {
		s.mu.RUnlock()
		return nil
	}
	batch := s.sealed[0]
	s.mu.RUnlock()
	if err := s.write(batch); err != nil {
		return fmt.Errorf("state: checkpoint: %w", err)
	}
	s.mu.Lock()
	s.sealed = s.sealed[1:]
	s.recent = append(s.recent, batch)
	if len(s.recent) > keepRecent {
		s.recent = slices.Delete(s.recent, 0, len(s.recent)-keepRecent)
	}
	s.mu.Unlock()
	return nil
}

// write puts one batch into Badger, waiting out a DropPrefix of another owner of the
// database (Badger refuses writes while it runs).
func (s *Store) write(batch *changes) error {
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		err := s.writeOnce(batch)
		if !errors.Is(err, badger.ErrBlockedWrites) || s.db.IsClosed() {
			return err
		}
		time.Sleep(wait)
	}
}

func (s *Store) writeOnce(batch *changes) error {
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for k, c := range batch.m {
		var err error
		if c.deleted {
			err = wb.Delete([]byte(k))
		} else {
			err = wb.Set([]byte(k), c.value)
		}
		if err != nil {
			return err
		}
	}
	return wb.Flush()
}

// DeleteNow removes key from Badger at once, outside any batch: for a record a checkpoint
// wrote that is dropped when its batch's rows are durable (its key is never written again).
func (s *Store) DeleteNow(key []byte) error {
	s.checkpointing.Lock()
	defer s.checkpointing.Unlock()
	s.mu.Lock()
	for _, c := range s.recent {
		delete(c.m, string(key))
	}
	s.mu.Unlock()
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		err := s.db.Update(func(txn *badger.Txn) error { return txn.Delete(key) })
		if !errors.Is(err, badger.ErrBlockedWrites) || s.db.IsClosed() {
			return err
		}
		time.Sleep(wait)
	}
}

// DropPrefix removes every key under the prefixes, in memory and in Badger, without a
// tombstone per key (Badger drops whole tables).
func (s *Store) DropPrefix(prefixes ...[]byte) error {
	s.checkpointing.Lock()
	defer s.checkpointing.Unlock()
	s.mu.Lock()
	for _, c := range slices.Concat([]*changes{s.open}, s.sealed, s.recent) {
		for k := range c.m {
			if hasAnyPrefix(k, prefixes) {
				delete(c.m, k)
			}
		}
	}
	s.mu.Unlock()
	return s.db.DropPrefix(prefixes...)
}

func hasAnyPrefix(k string, prefixes [][]byte) bool {
	for _, p := range prefixes {
		if len(k) >= len(p) && k[:len(p)] == string(p) {
			return true
		}
	}
	return false
}
