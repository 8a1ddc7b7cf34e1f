package identity

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// What erase.go keeps in Badger, in one file so that a change of the storage below the
// store (transactions, or a state checkpointed per batch) touches only this:
//
//	id/f/<tenant>\x00<id> -> cut (varint): a tombstone, an erasure that came before its contact
//	id/e/<tenant>\x00<id> -> nothing: an erasure applied and not yet repeated in ClickHouse

const tombstonePfx = prefix + "f/"

// pendingPfx marks the contacts whose erasure this store applied and the worker has not yet
// repeated in ClickHouse (id/e/<tenant>\x00<id>): a stop in between leaves them for the
// next start (PendingErasures).
const pendingPfx = prefix + "e/"

// setTombstone remembers an erasure of a contact this store does not know yet.
func (w *work) setTombstone(tenant, id string, cut int64) error {
	w.s.tombstones = true // before the write: a set flag only costs reads
	return w.txn.Set(tombstoneKey(tenant, id), binary.AppendVarint(nil, cut))
}

// markPending records that the contact's erasure must be repeated in ClickHouse.
func (w *work) markPending(tenant, id string) error {
	return w.txn.Set(pendingKey(tenant, id), nil)
}

func pendingKey(tenant, id string) []byte {
	return append(append(append([]byte(pendingPfx), tenant...), 0), id...)
}

func tombstoneKey(tenant, id string) []byte {
	return append(append(append([]byte(tombstonePfx), tenant...), 0), id...)
}

// mergedGroup lists the contacts merged into survivor, directly or through a chain of
// merges (bounded as in Rows), including merges made earlier in this transaction.
func (w *work) mergedGroup(tenant, survivor string) ([]string, error) {
	var out []string
	next := []string{survivor}
	for depth := 0; len(next) > 0 && depth < 8; depth++ {
		var found []string
		for _, id := range next {
			pfx := mergedPrefix(tenant, id)
			it := w.txn.NewIterator(badger.IteratorOptions{Prefix: pfx})
			for it.Rewind(); it.Valid(); it.Next() {
				found = append(found, string(it.Item().Key()[len(pfx):]))
			}
			it.Close()
		}
		out, next = append(out, found...), found
	}
	return out, nil
}

// tombstone returns the cut of an erasure that arrived before the contact did, or 0.
func (w *work) tombstone(tenant, id string) (int64, error) {
	if !w.s.tombstones {
		return 0, nil
	}
	item, err := w.txn.Get(tombstoneKey(tenant, id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var cut int64
	err = item.Value(func(v []byte) error {
		d := reader{s: string(v)}
		if cut = d.varint(); d.err {
			return fmt.Errorf("%w: tombstone of %s/%s", ErrCorrupt, tenant, id)
		}
		return nil
	})
	return cut, err
}

// unpoint removes a key's index entry; "" in the working set and the cache says "no such key".
func (w *work) unpoint(code byte, value, tenant string) error {
	ik := indexKey(code, value, tenant)
	w.index[string(ik)] = ""
	return w.txn.Delete(ik)
}

// PendingErasures returns the contacts whose erasure was applied but not yet repeated in
// ClickHouse (ErasedAgain) when the worker stopped; it repeats them at start, after the
// rows a stop left behind are rewritten.
func (s *Store) PendingErasures() ([]ContactRef, error) {
	var out []ContactRef
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pendingPfx), PrefetchValues: false})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			rest := string(it.Item().Key()[len(pendingPfx):])
			tenant, id, ok := strings.Cut(rest, "\x00")
			if !ok {
				return fmt.Errorf("%w: pending erasure %q", ErrCorrupt, rest)
			}
			out = append(out, ContactRef{tenant, id})
		}
		return nil
	})
	return out, err
}

// ErasedAgain says that the contacts' erasure has been repeated in ClickHouse.
func (s *Store) ErasedAgain(refs []ContactRef) error {
	return s.updateWaiting(func(txn *badger.Txn) error {
		for _, r := range refs {
			if err := txn.Delete(pendingKey(r.Tenant, r.ID)); err != nil {
				return err
			}
		}
		return nil
	})
}

// updateWaiting is db.Update that waits out a DropPrefix of the process goroutine (expired
// report state), which refuses writes while it lasts.
func (s *Store) updateWaiting(fn func(*badger.Txn) error) error {
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		err := s.db.Update(fn)
		if !errors.Is(err, badger.ErrBlockedWrites) || s.db.IsClosed() {
			return err
		}
		time.Sleep(wait)
	}
}

// hasPrefix says whether db holds a key under pfx; an error reads as yes, which only costs reads.
func hasPrefix(db *badger.DB, pfx string) bool {
	found := true
	_ = db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfx)})
		defer it.Close()
		it.Rewind()
		found = it.Valid()
		return nil
	})
	return found
}
