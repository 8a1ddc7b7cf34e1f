package state

import (
	"bytes"
	"slices"
	"strings"

	badger "github.com/dgraph-io/badger/v4"
)

// Scan calls fn for every key under prefix with its newest value, in key order. Scans are
// for rare paths (merges, lookups by key across tenants, maintenance): each one also walks
// the changes held in memory.
func (s *Store) Scan(prefix []byte, fn func(key, value []byte) error) error {
	return s.walk(prefix, true, func(k []byte, mem *change, item *badger.Item) error {
		if mem != nil {
			return fn(k, mem.value)
		}
		return item.Value(func(v []byte) error { return fn(k, v) })
	})
}

// ScanKeys calls fn for every key under prefix, in key order, without reading values.
func (s *Store) ScanKeys(prefix []byte, fn func(key []byte) error) error {
	return s.walk(prefix, false, func(k []byte, _ *change, _ *badger.Item) error { return fn(k) })
}

// walk merges the changes in memory under prefix with Badger's keys, in key order: a key
// changed in memory comes with its change (deleted ones are skipped), any other with its item.
func (s *Store) walk(prefix []byte, values bool, fn func(key []byte, mem *change, item *badger.Item) error) error {
	mem := s.pendingUnder(string(prefix))
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: values})
		defer it.Close()
		it.Rewind()
		for len(mem) > 0 || it.Valid() {
			if it.Valid() && (len(mem) == 0 || bytes.Compare(it.Item().Key(), []byte(mem[0].key)) < 0) {
				if err := fn(it.Item().Key(), nil, it.Item()); err != nil {
					return err
				}
				it.Next()
				continue
			}
			m := mem[0]
			mem = mem[1:]
			if it.Valid() && bytes.Equal(it.Item().Key(), []byte(m.key)) {
				it.Next() // the change in memory is newer
			}
			if !m.deleted {
				if err := fn([]byte(m.key), &m.change, nil); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

type keyed struct {
	key string
	change
}

// pendingUnder returns the newest change of every key under prefix held in memory, sorted.
func (s *Store) pendingUnder(prefix string) []keyed {
	s.mu.RLock()
	defer s.mu.RUnlock()
	newest := map[string]change{}
	for _, c := range append(slices.Clone(s.sealed), s.open) { // oldest first: later wins
		for k, ch := range c.m {
			if strings.HasPrefix(k, prefix) {
				newest[k] = ch
			}
		}
	}
	out := make([]keyed, 0, len(newest))
	for k, ch := range newest {
		out = append(out, keyed{k, ch})
	}
	slices.SortFunc(out, func(a, b keyed) int { return strings.Compare(a.key, b.key) })
	return out
}

// Seek returns the first key under prefix that is not before from, with the changes held in
// memory counted (a deleted key is skipped): for walks that jump, such as one step per
// tenant.
func (s *Store) Seek(prefix, from []byte) ([]byte, bool, error) {
	var best []byte
	for _, m := range s.pendingUnder(string(prefix)) {
		if !m.deleted && m.key >= string(from) {
			best = []byte(m.key)
			break
		}
	}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: false})
		defer it.Close()
		for it.Seek(from); it.Valid(); it.Next() {
			k := it.Item().Key()
			if best != nil && bytes.Compare(k, best) >= 0 {
				return nil
			}
			if c, ok := s.pending(k); ok && c.deleted {
				continue
			}
			best = it.Item().KeyCopy(nil)
			return nil
		}
		return nil
	})
	return best, best != nil, err
}
