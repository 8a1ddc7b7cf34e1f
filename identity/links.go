package identity

import "slices"

// link puts a strong key on x. After contactFor merged every contact of the event's
// strong keys into x, each of them is either on x already or unseen.
func (w *work) link(x *slot, k kv, at int64) error {
	if i := x.rec.key(k.code, k.value); i >= 0 {
		x.rec.keys[i].seen(at, at)
		return nil
	}
	x.rec.keys = append(x.rec.keys, keyRec{code: k.code, value: k.value, firstSeen: at, lastSeen: at})
	return w.point(k.code, k.value, x)
}

// linkParent puts a parent BSUID on x only if no contact has it yet: a parent BSUID
// is shared by every portfolio enrolled with the parent account, so it is evidence
// too weak to merge on.
func (w *work) linkParent(x *slot, p string, at int64) error {
	if p == "" {
		return nil
	}
	if i := x.rec.key(codeParent, p); i >= 0 {
		x.rec.keys[i].seen(at, at)
		return nil
	}
	owner, err := w.owner(codeParent, p, x.rec.tenant)
	if err != nil {
		return err
	}
	if owner != nil {
		w.seenElsewhere(owner, codeParent, p, at, at)
		return nil
	}
	return w.link(x, kv{codeParent, p}, at)
}

// seenElsewhere widens first/last seen of a key that stays on another contact: a
// contact_keys row says when the identifier was seen at all, and the same event
// applied again after a merge must find nothing left to change.
func (w *work) seenElsewhere(o *slot, code byte, v string, first, last int64) {
	if j := o.rec.key(code, v); j >= 0 {
		o.rec.keys[j].seen(first, last)
		w.touch(o)
	}
}

// username applies rule 4. The contact records its newest claim; the username key goes
// to the contact with the newest claim overall (rule 7), moving from the contact that
// had it. A contact shows its claim only while it holds the key (record.username), so
// a claim that lost, or was taken away later, shows nothing, whatever the arrival order.
func (w *work) username(x *slot, u string, at int64) error {
	if u == "" {
		return nil
	}
	r := x.rec
	r.user.set(u, at, 0)
	if i := r.key(codeUser, u); i >= 0 {
		r.keys[i].seen(at, at)
		return nil
	}
	owner, err := w.owner(codeUser, u, r.tenant)
	if err != nil {
		return err
	}
	if owner == nil || owner == x {
		return w.link(x, kv{codeUser, u}, at)
	}
	return w.moveUsername(owner, x, u, at)
}

// moveUsername moves the username key from o to x unless o was seen with it later.
// Same-second claims go to the larger contact id so that arrival order does not decide.
func (w *work) moveUsername(o, x *slot, u string, at int64) error {
	or := o.rec
	k := keyRec{code: codeUser, value: u, firstSeen: at, lastSeen: at}
	if j := or.key(codeUser, u); j >= 0 {
		if last := or.keys[j].lastSeen; last > at || last == at && x.rec.id < or.id {
			w.seenElsewhere(o, codeUser, u, at, at)
			return nil
		}
		k = or.keys[j]
		or.keys = slices.Delete(or.keys, j, j+1)
	}
	k.seen(at, at)
	x.rec.keys = append(x.rec.keys, k)
	w.touch(o)
	return w.point(codeUser, u, x)
}

// merge folds the loser l into the survivor x (rule 1): l's keys move to x and are
// re-pointed, so every key resolves in one read; x keeps the newest of each fact;
// l keeps its last facts and gets merged_into.
func (w *work) merge(x, l *slot) error {
	xr, lr := x.rec, l.rec
	for _, k := range lr.keys {
		if i := xr.key(k.code, k.value); i >= 0 {
			xr.keys[i].seen(k.firstSeen, k.lastSeen)
		} else {
			xr.keys = append(xr.keys, k)
		}
		if err := w.point(k.code, k.value, x); err != nil {
			return err
		}
	}
	joinFacts(x, lr)
	lr.user.V = lr.username() // l's row keeps the username it showed, though its keys move
	lr.keys, lr.mergedInto = nil, xr.id
	// Remember the loser under the survivor, so Rows can re-emit its merged_into row.
	w.set(mergedKey(xr.tenant, xr.id, lr.id), nil)
	w.touch(x)
	w.touch(l)
	return nil
}
