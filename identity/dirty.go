package identity

import (
	"encoding/binary"
	"fmt"

	"github.com/wapipe/wapipe/model"
)

// The state is checkpointed before a batch's rows go to ClickHouse (the worker cannot make
// both durable at once), and a replay after a crash finds nothing left to change, so it would
// return no rows for the contacts whose rows were lost. So each batch records the contacts it
// changed under id/d/<seq>, in the same checkpoint (SealDirty); Durable drops the record once
// the batch's rows are durable, and DirtyRows returns, at start, the rows of every contact a
// crash may have left behind (the worker writes them before it processes anything). No row
// is written twice in normal operation.
//
// Why not checkpoint after the rows are durable instead, and let the replay recompute them:
// a replay interleaves the partitions in another order, and contact ids depend on the order
// in which a person's keys were met, so the replay can create the person under another id
// while the first attempt's identities row stays live in ClickHouse (TestCrashesLoseNothing:
// one live contact too many).

const dirtyPfx = prefix + "d/"

func dirtyKey(seq uint64) []byte { return binary.BigEndian.AppendUint64([]byte(dirtyPfx), seq) }

// SealDirty records, in the state's open changes, the contacts changed since the last call:
// the caller calls it once per batch, before it seals and checkpoints the batch.
func (s *Store) SealDirty() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.dirty) == 0 {
		s.flushed = append(s.flushed, 0)
		return
	}
	var b []byte
	for ref := range s.dirty {
		b = appendString(appendString(b, ref.Tenant), ref.ID)
	}
	clear(s.dirty)
	s.seq++
	s.st.Set(dirtyKey(s.seq), b)
	s.flushed = append(s.flushed, s.seq)
}

// Durable says that the oldest sealed batch's rows are durable: its record goes. The
// caller calls SealDirty and Durable once per batch, in the same order.
func (s *Store) Durable() error {
	s.mu.Lock()
	if len(s.flushed) == 0 {
		s.mu.Unlock()
		return nil
	}
	seq := s.flushed[0]
	s.flushed = s.flushed[1:]
	s.mu.Unlock()
	if seq == 0 {
		return nil
	}
	return s.st.DeleteNow(dirtyKey(seq))
}

// DirtyRows returns the current rows of every contact recorded as changed by a batch that
// was not durable when the worker stopped; the caller writes them before it processes
// anything, then calls ForgetDirty.
func (s *Store) DirtyRows() ([]model.Row, []ContactRef, error) {
	var refs []ContactRef
	seen := map[ContactRef]bool{}
	err := s.st.Scan([]byte(dirtyPfx), func(k, v []byte) error {
		d := reader{s: string(v)}
		for len(d.s) > 0 && !d.err {
			ref := ContactRef{Tenant: d.string(), ID: d.string()}
			if !d.err && !seen[ref] {
				seen[ref] = true
				refs = append(refs, ref)
			}
		}
		if d.err {
			return fmt.Errorf("%w: dirty record %x", ErrCorrupt, k)
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
	return s.st.DropPrefix([]byte(dirtyPfx))
}
