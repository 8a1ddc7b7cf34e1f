package identity

import (
	"fmt"
	"slices"

	"github.com/wapipe/wapipe/model"
)

// Imported is what Import did.
type Imported struct {
	// Rows are the identities and contact_keys rows that changed here (a merge the import
	// caused, a key that moved, facts this store did not have).
	Rows []model.Row
	// Republish are the contacts whose snapshot, as imported, lacks what this store holds
	// of them: the worker publishes its own snapshots of them, so that the last snapshot
	// of every contact on the compacted identity topic holds every fact.
	Republish []ContactRef
	// Bad are the snapshots that could not be decoded, by index; they were skipped.
	Bad map[int]error
}

// Import joins another worker's snapshots and the erasure records (erase.go) into the
// store, in order.
// err is an infrastructure failure. Importing the same snapshot again changes nothing.
func (s *Store) Import(values [][]byte) (Imported, error) {
	var out Imported
	recs := make([]entry, len(values))
	for i, v := range values {
		var err error
		if recs[i], err = decodeEntry(v); err != nil {
			if out.Bad == nil {
				out.Bad = map[int]error{}
			}
			out.Bad[i] = err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.w.republish = s.w.republish[:0]
	for _, r := range recs {
		if r.empty() {
			continue
		}
		changed, err := s.w.join(r)
		s.w.floor = 0
		if err != nil {
			s.abort()
			return Imported{Bad: out.Bad}, fmt.Errorf("import %s: %w", r, err)
		}
		out.Rows = append(out.Rows, changed...)
		s.counted()
	}
	out.Republish = slices.Clone(s.w.republish)
	return out, s.settle()
}

// entry is one record of the identity topic: a snapshot or an erasure.
type entry struct {
	snap  *record
	erase *erasure
}

func decodeEntry(v []byte) (entry, error) {
	if IsErasure(v) {
		e, err := decodeErasure(v)
		return entry{erase: e}, err
	}
	r, err := decodeSnapshot(v)
	return entry{snap: r}, err
}

func (e entry) empty() bool { return e.snap == nil && e.erase == nil }

func (e entry) String() string {
	if e.erase != nil {
		return "erasure of " + e.erase.tenant + "/" + e.erase.id
	}
	return e.snap.tenant + "/" + e.snap.id
}

// join applies one entry to the working set and returns the rows it changed.
func (w *work) join(e entry) ([]model.Row, error) {
	if e.snap != nil {
		return w.adopt(e.snap)
	}
	return w.applyErasure(e.erase)
}

// applyErasure erases the contact's group; every contact whose record changed is published
// again (Republish), so that the last record of each on the topic carries the erasure.
func (w *work) applyErasure(e *erasure) ([]model.Row, error) {
	if err := w.erase(e); err != nil {
		return nil, err
	}
	rows, err := w.finish(e.cut)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if ir, ok := r.(*model.IdentityRow); ok {
			w.republish = append(w.republish, ContactRef{ir.Tenant, ir.ContactID})
		}
	}
	return rows, nil
}

// adopt joins one snapshot into the working set and returns the rows it changed. Row
// versions continue from the snapshot's, so the newest row in ClickHouse is always the
// joined state, whichever worker wrote it.
func (w *work) adopt(s *record) ([]model.Row, error) {
	w.floor = s.version
	for i := range s.keys {
		w.floor = max(w.floor, s.keys[i].version)
	}
	var err error
	if s.mergedInto != "" {
		err = w.adoptMerged(s)
	} else {
		err = w.adoptLive(s)
	}
	if err != nil {
		return nil, err
	}
	rows, err := w.finish(s.lastSeen)
	if err != nil {
		return nil, err
	}
	if own := w.slots[string(contactKey(s.tenant, s.id))]; own != nil && !covers(s, own.rec, w.s.lazy) {
		w.republish = append(w.republish, ContactRef{s.tenant, s.id})
	}
	return rows, nil
}

// adoptLive joins a live contact: its own record here takes its facts (coming back if
// it was merged into a younger contact), every local contact holding one of its BSUIDs
// or phones merges with it into the oldest, and that survivor takes its keys.
func (w *work) adoptLive(s *record) error {
	own, err := w.load(s.tenant, s.id)
	if err != nil {
		return err
	}
	switch {
	case own == nil:
		own = w.create(s.tenant, s.id, s.firstSeen)
	case own.rec.mergedInto != "":
		y, err := w.follow(s.tenant, s.id)
		if err != nil {
			return err
		}
		joinFacts(own, s) // a merged contact's row converges too
		w.touch(own)
		if !s.older(y.rec) {
			own = y
			break
		}
		// Shown older than its survivor: it comes back and takes the survivor's keys.
		if err := w.revive(own); err != nil {
			return err
		}
		if err := w.union(own, y); err != nil {
			return err
		}
	}
	joinFacts(own, s)
	w.touch(own)
	for _, k := range s.keys {
		if k.code != codeBSUID && k.code != codePhone {
			continue
		}
		o, err := w.owner(k.code, k.value, s.tenant)
		if err != nil {
			return err
		}
		if o != nil {
			if err := w.union(own, o); err != nil {
				return err
			}
		}
	}
	x, err := w.follow(s.tenant, own.rec.id)
	if err != nil {
		return err
	}
	for _, k := range s.keys {
		if err := w.adoptKey(x, k); err != nil {
			return err
		}
	}
	return nil
}

// adoptMerged joins a contact that another worker merged into s.mergedInto. When this
// store knows neither side better, that worker's decision stands; otherwise the oldest of
// the two groups survives, as everywhere.
func (w *work) adoptMerged(s *record) error {
	own, err := w.load(s.tenant, s.id)
	if err != nil {
		return err
	}
	target, err := w.load(s.tenant, s.mergedInto)
	if err != nil {
		return err
	}
	fresh := own == nil || target == nil
	if own == nil {
		own = w.create(s.tenant, s.id, s.firstSeen)
	}
	if target == nil {
		// The survivor's own snapshot has not arrived yet: it will fill this in.
		target = w.create(s.tenant, s.mergedInto, s.firstSeen)
	}
	joinFacts(own, s)
	w.touch(own)
	if !fresh {
		return w.union(own, target)
	}
	x, err := w.follow(s.tenant, target.rec.id)
	if err != nil {
		return err
	}
	if x == own {
		return nil
	}
	x.rec.seen(s.firstSeen, s.lastSeen)
	return w.merge(x, own)
}

// union merges the groups of a and b into the oldest of their survivors.
func (w *work) union(a, b *slot) error {
	x, err := w.follow(a.rec.tenant, a.rec.id)
	if err != nil {
		return err
	}
	l, err := w.follow(b.rec.tenant, b.rec.id)
	if err != nil || x == l {
		return err
	}
	if l.rec.older(x.rec) {
		x, l = l, x
	}
	return w.merge(x, l)
}

// revive makes a merged contact live again, with no keys until a merge gives them back.
func (w *work) revive(sl *slot) error {
	prev := sl.rec.mergedInto
	sl.rec.mergedInto = ""
	w.touch(sl)
	w.remove(mergedKey(sl.rec.tenant, prev, sl.rec.id))
	return nil
}

// joinFacts keeps the newest of each fact (rule 7) and widens first/last seen: what a
// merge does to its survivor, and an import to the contact it joins.
func joinFacts(sl *slot, s *record) {
	r := sl.rec
	for _, p := range [...]struct {
		dst *fact
		src fact
	}{{&r.bsuid, s.bsuid}, {&r.parent, s.parent}, {&r.phone, s.phone}, {&r.user, s.user}, {&r.name, s.name}} {
		// A phone emptied by a change of number is a fact too; an empty username of a
		// merged-away contact is not (it only shows what the contact's row displayed).
		if p.src.V != "" || p.dst == &r.phone && p.src != (fact{}) {
			p.dst.set(p.src.V, p.src.At, p.src.Rank)
		}
	}
	r.seen(s.firstSeen, s.lastSeen)
	r.erased = max(r.erased, s.erased) // an erasure of either is the person's: finish scrubs
}

// adoptParent settles a parent BSUID two workers gave to different contacts: the contact
// that has had it longest keeps it (ties: the smaller id), whatever the arrival order.
func (w *work) adoptParent(o, x *slot, k keyRec) error {
	j := o.rec.key(codeParent, k.value)
	if j < 0 {
		return nil
	}
	ok := o.rec.keys[j]
	if ok.firstSeen < k.firstSeen || ok.firstSeen == k.firstSeen && o.rec.id < x.rec.id {
		w.seenElsewhere(o, codeParent, k.value, k.firstSeen, k.lastSeen)
		return nil
	}
	o.rec.keys = slices.Delete(o.rec.keys, j, j+1)
	w.touch(o)
	ok.seen(k.firstSeen, k.lastSeen)
	x.rec.keys = append(x.rec.keys, ok)
	return w.point(codeParent, k.value, x)
}

// adoptKey puts one key of a snapshot on x by the rules its type follows when an event
// brings it: a BSUID or phone is x's (its owners were merged into x), a parent BSUID only
// if no contact has it, a username if x claimed it last.
func (w *work) adoptKey(x *slot, k keyRec) error {
	if i := x.rec.key(k.code, k.value); i >= 0 {
		x.rec.keys[i].seen(k.firstSeen, k.lastSeen)
		return nil
	}
	if k.code == codeParent || k.code == codeUser {
		o, err := w.owner(k.code, k.value, x.rec.tenant)
		if err != nil {
			return err
		}
		if o != nil && o != x {
			if k.code == codeParent {
				return w.adoptParent(o, x, k)
			}
			if err := w.moveUsername(o, x, k.value, k.lastSeen); err != nil {
				return err
			}
			if i := x.rec.key(k.code, k.value); i >= 0 {
				x.rec.keys[i].seen(k.firstSeen, k.lastSeen)
			}
			return nil
		}
	}
	x.rec.keys = append(x.rec.keys, k)
	return w.point(k.code, k.value, x)
}
