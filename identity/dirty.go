package identity

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/wapipe/wapipe/model"
)

// In Deferred mode the store commits before the rows it returned are durable, and a
// replay after a crash finds nothing left to change, so it would return no rows for the
// contacts whose rows were lost. Each commit therefore records the contacts it changed
// under id/d/<seq>, in the same transaction; Durable drops those records once the
// pipeline says the batch is durable, and DirtyRows returns, at start, the rows of every
// contact a crash may have left behind. No row is re-emitted in normal operation.

const dirtyPfx = prefix + "d/"

func dirtyKey(seq uint64) []byte { return binary.BigEndian.AppendUint64([]byte(dirtyPfx), seq) }

// writeDirty records the contacts changed in the open transaction.
func (s *Store) writeDirty(txn *badger.Txn) error {
	if len(s.dirty) == 0 {
		return nil
	}
	var b []byte
	for ref := range s.dirty {
		b = appendString(appendString(b, ref.Tenant), ref.ID)
	}
	s.seq++
	clear(s.dirty)
	return txn.Set(dirtyKey(s.seq), b)
}

// Durable says that the rows of the oldest flushed batch not yet durable are durable
// now: the pipeline calls Flush and Durable once per batch, in the same order.
func (s *Store) Durable() error {
	s.mu.Lock()
	if len(s.flushed) == 0 {
		s.mu.Unlock()
		return nil
	}
	upTo := s.flushed[0]
	s.flushed = s.flushed[1:]
	s.mu.Unlock()
	// The process goroutine may be dropping expired report state (DropPrefix), which refuses
	// writes for its duration: wait it out rather than fail the batch.
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		err := s.dropDirty(upTo)
		if !errors.Is(err, badger.ErrBlockedWrites) || s.db.IsClosed() {
			return err
		}
		time.Sleep(wait)
	}
}

// dropDirty deletes the dirty records up to seq upTo.
func (s *Store) dropDirty(upTo uint64) error {
	return s.db.Update(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(dirtyPfx)})
		var done [][]byte
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().KeyCopy(nil)
			if binary.BigEndian.Uint64(k[len(dirtyPfx):]) > upTo {
				break
			}
			done = append(done, k)
		}
		it.Close()
		for _, k := range done {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// DirtyRows returns the current rows of every contact changed by a commit whose batch
// was not durable when the worker stopped, and forgets those records: the caller
// writes the rows before it processes anything.
func (s *Store) DirtyRows() ([]model.Row, []ContactRef, error) {
	var refs []ContactRef
	seen := map[ContactRef]bool{}
	var keys [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(dirtyPfx)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			keys = append(keys, it.Item().KeyCopy(nil))
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			d := reader{s: string(v)}
			for len(d.s) > 0 && !d.err {
				ref := ContactRef{Tenant: d.string(), ID: d.string()}
				if !d.err && !seen[ref] {
					seen[ref] = true
					refs = append(refs, ref)
				}
			}
			if d.err {
				return fmt.Errorf("%w: dirty record %x", ErrCorrupt, it.Item().Key())
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	var rows []model.Row
	for _, ref := range refs {
		rs, err := s.Rows(ref.Tenant, ref.ID)
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, rs...)
	}
	return rows, refs, nil
}

// ForgetDirty drops the records DirtyRows read, once their rows are durable.
func (s *Store) ForgetDirty() error {
	return s.db.DropPrefix([]byte(dirtyPfx))
}
