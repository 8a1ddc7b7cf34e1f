package identity

import (
	"github.com/wapipe/wapipe/model"
)

type kv struct {
	code  byte
	value string
}

// strongKeys are the keys that identify a user within a tenant and so may link or merge
// contacts (rules 1, 3, 5, 6), in the order that names a new contact: BSUID before
// phone, the previous (older) identity before the new one.
func strongKeys(f *Facts, buf *[4]kv) []kv {
	out := buf[:0]
	for _, k := range [...]kv{{codeBSUID, f.PreviousBSUID}, {codeBSUID, f.BSUID},
		{codePhone, f.PreviousPhone}, {codePhone, f.Phone}} {
		if k.value != "" && (len(out) == 0 || out[len(out)-1] != k) {
			out = append(out, k)
		}
	}
	return out
}

// apply resolves one event inside the working set.
func (w *work) apply(event *Facts) (Resolution, error) {
	f := event
	if step := w.s.step; step > 1 {
		// Config.SeenStep: every identity time is kept at the step's resolution, so a
		// burst of events of one contact changes nothing after the first, and within a
		// step rank and value decide as they do for equal times.
		g := *event
		g.At -= (g.At%step + step) % step
		f = &g
	}
	var buf [4]kv
	strong := strongKeys(f, &buf)
	x, err := w.contactFor(f, strong)
	if err != nil || x == nil || len(strong) == 0 {
		var r *record
		if x != nil {
			r = x.rec
		}
		return Resolution{Who: who(f, r)}, err
	}
	for _, k := range strong {
		if err := w.link(x, k, f.At); err != nil {
			return Resolution{}, err
		}
	}
	for _, p := range [...]string{f.PreviousParentBSUID, f.ParentBSUID} {
		if err := w.linkParent(x, p, f.At); err != nil {
			return Resolution{}, err
		}
	}
	if err := w.username(x, f.Username, f.At); err != nil {
		return Resolution{}, err
	}
	r := x.rec
	var bsuidRank, class uint8
	if f.change() {
		bsuidRank = 1 // a change notice outranks traffic of the same second that still carries the old BSUID
	}
	if f.Addressed {
		class = addressedRank
	}
	if f.BSUID != "" {
		r.bsuid.set(f.BSUID, f.At, bsuidRank|class)
	}
	if f.ParentBSUID != "" {
		r.parent.set(f.ParentBSUID, f.At, bsuidRank|class)
	}
	switch {
	case f.Phone != "":
		r.phone.set(f.Phone, f.At, sourceRank[f.source()]|class)
	case f.change():
		// A BSUID is regenerated only when the number changes, so a notice without the new
		// number (user_changed_user_id: it cannot be shared) leaves the phone unknown from
		// then on. The old number stays a key of the contact, no longer its phone.
		r.phone.set("", f.At, sourceRank[model.PhoneFromSystem])
	}
	if f.ProfileName != "" {
		r.name.set(f.ProfileName, f.At, 0)
	}
	r.seen(f.At, f.At)
	w.touch(x)
	rows, err := w.finish(f.At)
	if err != nil {
		return Resolution{}, err
	}
	return Resolution{Who: who(f, r), Changed: rows}, nil
}

// contactFor finds the contact of the event's strong keys, merging the contacts they
// belong to (rules 1 and 6), or creates it; without strong keys it only looks up the
// parent BSUID and username, and never creates a contact from them.
func (w *work) contactFor(f *Facts, strong []kv) (*slot, error) {
	if len(strong) == 0 {
		for _, k := range [...]kv{{codeParent, f.ParentBSUID}, {codeParent, f.PreviousParentBSUID}, {codeUser, f.Username}} {
			if k.value != "" {
				if sl, err := w.owner(k.code, k.value, f.Tenant); sl != nil || err != nil {
					return sl, err
				}
			}
		}
		return nil, nil
	}
	var buf [4]*slot
	found := buf[:0]
next:
	for _, k := range strong {
		for _, sl := range found {
			if sl.rec.key(k.code, k.value) >= 0 { // a contact's keys all point at it: skip the read
				continue next
			}
		}
		sl, err := w.owner(k.code, k.value, f.Tenant)
		if err != nil {
			return nil, err
		}
		if sl != nil && !containsSlot(found, sl) {
			found = append(found, sl)
		}
	}
	if len(found) == 0 {
		id := ContactID(f.Tenant, typeOf(strong[0].code), strong[0].value)
		if sl, err := w.load(f.Tenant, id); sl != nil || err != nil {
			return sl, err // defensive: the id exists although its key does not
		}
		return w.create(f.Tenant, id, f.At), nil
	}
	x := found[0]
	for _, sl := range found[1:] {
		if sl.rec.older(x.rec) {
			x = sl
		}
	}
	for _, sl := range found {
		if sl != x {
			if err := w.merge(x, sl); err != nil {
				return nil, err
			}
		}
	}
	return x, nil
}

func containsSlot(s []*slot, x *slot) bool {
	for _, sl := range s {
		if sl == x {
			return true
		}
	}
	return false
}

// who is the identity for the event's report rows.
func who(f *Facts, r *record) model.Who {
	w := model.Who{BSUID: f.BSUID, Username: f.Username, ProfileName: f.ProfileName}
	if f.Phone != "" {
		w.Phone, w.PhoneSource = opt(f.Phone), model.PhoneFromWebhook
	}
	if r == nil {
		return w
	}
	w.ContactID = r.id
	if f.At <= r.erased {
		// An event from before the contact's erasure (a backlog, a replay) never writes the
		// person's data again; what the contact has learned since may still fill in.
		w.Phone, w.PhoneSource, w.Username, w.ProfileName = nil, "", "", ""
	}
	if w.BSUID == "" {
		w.BSUID = r.bsuid.V
	}
	if w.Username == "" {
		w.Username = r.username()
	}
	if w.ProfileName == "" {
		w.ProfileName = r.name.V
	}
	if w.Phone == nil && r.phone.V != "" {
		w.Phone, w.PhoneSource = opt(r.phone.V), model.PhoneFromIdentity
	}
	return w
}
