package identity

import "slices"

// slot is a contact loaded into a transaction's working set: the copy the rules change
// and a snapshot of it as the current event found it, from which finish tells whether
// (and which rows) the event changed. Both live in the slot, with room for four keys,
// so that loading a contact and snapshotting it after a write allocate nothing more.
type slot struct {
	rec      *record // the working copy (points at own)
	own      record
	ownKeys  [4]keyRec
	base     head // snapshot at the start of the current event
	baseKeys []keyRec
	baseArr  [4]keyRec
	created  bool // by this transaction and not yet written: no snapshot
	touched  bool // by the current event
	publish  bool // the cache lacks the committed state
}

// newSlot copies a stored or cached record, which stays untouched. Slots are private to
// a transaction (publish copies what the cache keeps), so they are reused.
func (w *work) newSlot(r *record, publish bool) *slot {
	sl := w.freeSlot()
	sl.publish = publish
	sl.own.head = r.head
	sl.own.keys = append(sl.ownKeys[:0], r.keys...)
	sl.rec = &sl.own
	sl.snapshot()
	return sl
}

func (sl *slot) snapshot() {
	sl.base = sl.rec.head
	sl.baseKeys = append(sl.baseArr[:0], sl.rec.keys...)
	sl.created = false
}

func (sl *slot) unchanged() bool {
	return !sl.created && sl.rec.head == sl.base && slices.Equal(sl.rec.keys, sl.baseKeys)
}

func (w *work) freeSlot() *slot {
	if n := len(w.free); n > 0 {
		sl := w.free[n-1]
		w.free = w.free[:n-1]
		*sl = slot{}
		return sl
	}
	return new(slot)
}
