package identity

import (
	"fmt"
	"slices"

	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/state"
)

// work is the working set of a round of events: reads see earlier events of the round,
// and rows are computed by comparing each touched contact with its state when the event
// started. An event's writes reach the state together when it finishes, so a concurrent
// reader never sees half an event (an index entry before its contact).
type work struct {
	s      *Store
	writes []state.Write     // of the current event
	slots  map[string]*slot  // contactKey -> slot
	index  map[string]string // indexKey -> contact id, read from the state or written in this round
	order  []*slot           // touched by the current event, in order
	kb, cb []byte            // scratch keys for map and cache lookups
	free   []*slot           // slots of earlier transactions, for reuse
	floor  uint64            // versions written go above it (an imported snapshot's)
	// republish collects the contacts whose imported snapshot lacked what this store
	// holds (see covers), for Import to return.
	republish []ContactRef
	// erased collects the contacts whose erasure cut moved in this call (erase.go); settle
	// hands them to the store.
	erased []ContactRef
}

func (w *work) reset() {
	w.writes = w.writes[:0]
	for _, sl := range w.slots {
		if sl != nil {
			w.free = append(w.free, sl)
		}
	}
	clear(w.slots)
	clear(w.index)
	w.order = w.order[:0]
}

// load returns the contact, or nil when it does not exist.
func (w *work) load(tenant, id string) (*slot, error) {
	w.cb = appendContactKey(w.cb[:0], tenant, id)
	if sl, ok := w.slots[string(w.cb)]; ok {
		return sl, nil
	}
	base, cached := w.s.cache.contacts.Get(w.cb)
	if !cached {
		found, err := w.s.st.Get(w.cb, func(v []byte) error {
			var err error
			base, err = decode(tenant, id, v)
			return err
		})
		if err != nil {
			return nil, err
		}
		if !found {
			w.slots[string(w.cb)] = nil // remember the miss
			return nil, nil
		}
	}
	sl := w.newSlot(base, !cached)
	w.slots[string(w.cb)] = sl
	return sl, nil
}

// create adds a new contact to the working set.
func (w *work) create(tenant, id string, at int64) *slot {
	sl := w.freeSlot()
	sl.own.head = head{tenant: tenant, id: id, firstSeen: at, lastSeen: at}
	sl.own.keys = sl.ownKeys[:0]
	sl.rec, sl.publish, sl.created = &sl.own, true, true
	w.slots[string(contactKey(tenant, id))] = sl
	w.touch(sl)
	return sl
}

// follow loads the contact and walks merged_into to the survivor. Keys are rewritten on
// merge, so this is normally one step; the bound only guards against corruption.
func (w *work) follow(tenant, id string) (*slot, error) {
	for range 16 {
		sl, err := w.load(tenant, id)
		if err != nil {
			return nil, err
		}
		if sl == nil {
			return nil, fmt.Errorf("%w: %s/%s is referenced but missing", ErrCorrupt, tenant, id)
		}
		if sl.rec.mergedInto == "" {
			return sl, nil
		}
		id = sl.rec.mergedInto
	}
	return nil, fmt.Errorf("%w: merged_into chain too long at %s/%s", ErrCorrupt, tenant, id)
}

// owner returns the surviving contact of a key, or nil when the key is unseen.
func (w *work) owner(code byte, value, tenant string) (*slot, error) {
	w.kb = appendIndexKey(w.kb[:0], code, value, tenant)
	id, ok := w.index[string(w.kb)]
	if !ok {
		id, ok = w.s.cache.index.Get(w.kb)
	}
	if !ok {
		found, err := w.s.st.Get(w.kb, func(v []byte) error { id = string(v); return nil })
		if err != nil || !found {
			return nil, err
		}
		w.index[string(w.kb)] = id
	}
	if id == "" {
		return nil, nil // erased in this round (unpoint)
	}
	return w.follow(tenant, id)
}

// point makes the key resolve to the contact.
func (w *work) point(code byte, value string, sl *slot) error {
	ik := indexKey(code, value, sl.rec.tenant)
	w.index[string(ik)] = sl.rec.id
	w.set(ik, []byte(sl.rec.id))
	return nil
}

// set and remove change the state when the event finishes.
func (w *work) set(k, v []byte) { w.writes = append(w.writes, state.Write{Key: k, Value: v}) }

func (w *work) remove(k []byte) { w.writes = append(w.writes, state.Write{Key: k, Delete: true}) }

func (w *work) touch(sl *slot) {
	if !sl.touched {
		sl.touched = true
		w.order = append(w.order, sl)
	}
}

// finish writes every contact the current event changed and returns its rows:
// the identities row, then the contact_keys rows of keys that are new or changed.
func (w *work) finish(at int64) ([]model.Row, error) {
	var rows []model.Row
	for _, sl := range w.order {
		sl.touched = false
		sl.settle(w.s.lazy)
		if err := w.erasedFacts(sl); err != nil {
			return nil, err
		}
		if sl.unchanged() {
			continue
		}
		w.s.dirty[ContactRef{sl.rec.tenant, sl.rec.id}] = true
		r := sl.rec
		first := len(rows)
		rows = append(rows, nil) // the identities row, once the version is known
		var keyRows []model.ContactKeyRow
		for i := range r.keys {
			k := &r.keys[i]
			if !sl.created && slices.Contains(sl.baseKeys, *k) {
				continue
			}
			if keyRows == nil {
				keyRows = make([]model.ContactKeyRow, 0, len(r.keys)) // one allocation, never grown
			}
			k.version = nextVersion(max(k.version, w.floor), at)
			keyRows = append(keyRows, r.keyRow(k))
			rows = append(rows, &keyRows[len(keyRows)-1])
		}
		r.version = nextVersion(max(r.version, w.floor), at)
		w.set(contactKey(r.tenant, r.id), r.encode(nil))
		rows[first] = r.row()
		sl.snapshot()
		sl.publish = true
	}
	w.order = w.order[:0]
	w.s.st.Put(w.writes)
	w.writes = w.writes[:0]
	return rows, nil
}

// erasedFacts keeps an erased contact erased (erase.go): a contact new to this store takes
// the cut of an erasure that came first, and an erased one sheds what is dated before it.
func (w *work) erasedFacts(sl *slot) error {
	if sl.created {
		if err := w.erasedBefore(sl); err != nil {
			return err
		}
	}
	if sl.rec.erased == 0 {
		return nil
	}
	if sl.rec.erased > sl.base.erased {
		w.erased = append(w.erased, ContactRef{sl.rec.tenant, sl.rec.id})
	}
	return w.scrub(sl)
}

// publish remembers the round's working set in the store's cache.
func (w *work) publish() {
	for ck, sl := range w.slots {
		if sl != nil && sl.publish {
			w.s.cache.contacts.Put(ck, sl.rec.cloneInto(new(record))) // never changed once cached
		}
	}
	for ik, id := range w.index {
		w.s.cache.index.Put(ik, id)
	}
}
