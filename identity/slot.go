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

// settle undoes moves of last_seen shorter than step (Config.LastSeenStep), measured from
// the stored value, so last_seen is never more than step behind.
func (sl *slot) settle(step int64) {
	if step <= 0 || sl.created {
		return
	}
	r, b := sl.rec, &sl.base
	if d := r.lastSeen - b.lastSeen; d > 0 && d < step {
		r.lastSeen = b.lastSeen
	}
	// A fact confirmed again (same value and rank) keeps its time too: within the step,
	// rule 7 compares at the step's resolution, as with Config.SeenStep.
	for _, f := range [...]struct{ now, was *fact }{{&r.bsuid, &b.bsuid}, {&r.parent, &b.parent},
		{&r.phone, &b.phone}, {&r.user, &b.user}, {&r.name, &b.name}} {
		if f.now.V == f.was.V && f.now.Rank == f.was.Rank && f.now.At > f.was.At && f.now.At-f.was.At < step {
			f.now.At = f.was.At
		}
	}
	for i := range r.keys {
		k := &r.keys[i]
		for j := range sl.baseKeys {
			if b := &sl.baseKeys[j]; b.code == k.code && b.value == k.value {
				if d := k.lastSeen - b.lastSeen; d > 0 && d < step {
					k.lastSeen = b.lastSeen
				}
				break
			}
		}
	}
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
