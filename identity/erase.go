package identity

import (
	"encoding/binary"
	"fmt"
)

// Erasure (wapipe forget, contract section 11) removes a person's phone, username and
// profile name from every worker's store. It travels on the identity topic as an erasure
// record under the contact's snapshot key; a worker that applies it wipes those facts and
// keys from the contact and from every contact merged into it, and remembers the cut (the
// time of the erasure) in the contact's record. From then on:
//
//   - whatever reaches the contact dated at or before the cut (a stale snapshot of a worker
//     that had not applied the erasure yet, an old event replayed) loses its phone, username
//     and profile name before it is joined, and report rows of such an event carry none;
//   - the record's cut travels in every snapshot the worker publishes of the contact, and an
//     import keeps the newest cut, so the erasure reaches a worker that never read the
//     erasure record (compaction keeps only the last record of each contact);
//   - a snapshot without the cut does not cover this store's record (covers), so the worker
//     publishes its own after it: the last record of the contact on the compacted topic is
//     always one that carries the erasure, whichever worker published last;
//   - traffic dated after the cut starts a fresh history from what it carries.
//
// An erasure record of a contact this store does not know yet leaves a tombstone
// (id/f/<tenant>\x00<id> -> cut), so that the contact, when it arrives, arrives erased.

// erasureFormat leads an erasure record, as 's' leads a snapshot: the rest is the tenant,
// the contact id and the cut (unix seconds).
const erasureFormat byte = 'x'

// ErasureRecord is the identity-topic value that erases the contact's phone, username and
// profile name as of cut (unix seconds) on every worker. Publish it under
// SnapshotKey(tenant, contactID).
func ErasureRecord(tenant, contactID string, cut int64) []byte {
	b := []byte{erasureFormat}
	b = appendString(b, tenant)
	b = appendString(b, contactID)
	return binary.AppendVarint(b, cut)
}

// IsErasure tells an erasure record from the snapshots on the identity topic.
func IsErasure(v []byte) bool { return len(v) > 0 && v[0] == erasureFormat }

// erasure is a decoded erasure record.
type erasure struct {
	tenant, id string
	cut        int64
}

func decodeErasure(v []byte) (*erasure, error) {
	d := reader{s: string(v[1:])}
	e := &erasure{tenant: d.string(), id: d.string(), cut: d.varint()}
	if d.err || len(d.s) != 0 || e.tenant == "" || e.id == "" || e.cut <= 0 {
		return nil, fmt.Errorf("%w: bad erasure record", ErrInvalid)
	}
	return e, nil
}

// erase applies an erasure to the contact's group: its survivor and every contact merged
// into that survivor, directly or not. finish then scrubs each of them.
func (w *work) erase(e *erasure) error {
	sl, err := w.load(e.tenant, e.id)
	if err != nil {
		return err
	}
	if sl == nil {
		return w.setTombstone(e.tenant, e.id, e.cut)
	}
	x, err := w.follow(e.tenant, e.id)
	if err != nil {
		return err
	}
	group, err := w.mergedGroup(e.tenant, x.rec.id)
	if err != nil {
		return err
	}
	for _, id := range append(group, e.id) {
		m, err := w.load(e.tenant, id)
		if err != nil || m == nil {
			return err
		}
		m.rec.erased = max(m.rec.erased, e.cut)
		w.touch(m)
	}
	x.rec.erased = max(x.rec.erased, e.cut)
	w.touch(x)
	return nil
}

// scrub removes from an erased contact what is dated at or before its cut: its phone,
// username and profile name facts, and its phone and username keys (with their index
// entries). A key seen again after the cut stays, first seen at its last sighting, the only
// one known to be new traffic's. BSUIDs and times stay: they are what the counts join on.
func (w *work) scrub(sl *slot) error {
	r := sl.rec
	for _, f := range [...]*fact{&r.phone, &r.user, &r.name} {
		if f.At <= r.erased {
			*f = fact{}
		}
	}
	keep := r.keys[:0]
	for _, k := range r.keys {
		switch {
		case k.code != codePhone && k.code != codeUser || k.firstSeen > r.erased:
		case k.lastSeen > r.erased:
			k.firstSeen = k.lastSeen
		default:
			if err := w.unpoint(k.code, k.value, r.tenant); err != nil {
				return err
			}
			continue
		}
		keep = append(keep, k)
	}
	r.keys = keep
	return nil
}

// erasedBefore settles the cut of a contact this round created: an erasure that
// arrived before the contact did applies to it too.
func (w *work) erasedBefore(sl *slot) error {
	cut, err := w.tombstone(sl.rec.tenant, sl.rec.id)
	sl.rec.erased = max(sl.rec.erased, cut)
	return err
}

// TakeErased returns, once, the contacts whose erasure this store applied (the cut moved)
// since the last call; with a shared state, call it right after each Seal, so that they are
// the sealed batch's. Rows the worker wrote before it applied an erasure (a replay of the
// identity topic's older snapshots while bootstrapping, say) may carry the person's data
// into ClickHouse after wapipe forget erased it there, so once the batch that applied it is
// durable, and before its state is checkpointed, the worker erases these contacts in
// ClickHouse again (stages/process keeps them per batch).
func (s *Store) TakeErased() []ContactRef {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.erasedPending
	s.erasedPending = nil
	return out
}
