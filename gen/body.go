package gen

// A body is built in two steps: each event and its contacts[] entry are rendered into
// g.arena as items, then assemble wraps them in the envelope, grouping items by WABA
// (entry) and by number, field and list (change). Keeping items apart lets a batch put
// contacts[] in another order than messages[], and lets a message be re-sent inside a
// different batch.

const (
	fieldMessages = iota
	fieldCalls
)

const (
	listMessages = iota
	listStatuses
	listCalls
)

var (
	fieldNames = [...]string{"messages", "calls"}
	listNames  = [...]string{"messages", "statuses", "calls"}
)

type span struct{ from, to int }

type item struct {
	user        int32
	ev, ct      span // the event and its contacts[] entry (may be empty) in g.arena
	biz         uint8
	field, list uint8
}

// saved is a message kept to be re-sent inside another batch later.
type saved struct {
	user   int32
	biz    uint8
	ev, ct []byte
}

// add records the event rendered into g.arena from start to mid, followed by its contact.
func (g *Generator) add(u int32, biz, field, list uint8, start, mid int) {
	g.items[g.nitems] = item{user: u, ev: span{start, mid}, ct: span{mid, len(g.arena)},
		biz: biz, field: field, list: list}
	g.nitems++
}

func (g *Generator) emit() Body {
	val := g.assemble()
	key := g.biz[g.items[0].biz].key
	g.scheduleRetry(key, val)
	return Body{Key: key[:len(key):len(key)], Value: val}
}

// scheduleRetry may deliver the body again later: mostly within a few dozen bodies,
// sometimes thousands later (Meta retries for days).
func (g *Generator) scheduleRetry(key, val []byte) {
	if g.rng.Float64() >= g.cfg.DuplicateRate {
		return
	}
	d := 1 + g.rng.IntN(50)
	switch x := g.rng.IntN(20); {
	case x == 0:
		d = 1000 + g.rng.IntN(4000)
	case x < 6:
		d = 50 + g.rng.IntN(950)
	}
	g.retries.push(retry{due: int64(g.n + d), key: key[:len(key):len(key)], val: append([]byte(nil), val...)})
}

// assemble wraps the items in the envelope, into a fresh slice.
func (g *Generator) assemble() []byte {
	its := g.items[:g.nitems]
	out := make([]byte, 0, len(g.arena)+64+len(its)*224)
	out = append(out, `{"object":"whatsapp_business_account","entry":[`...)
	var done uint8
	for i := range its {
		if done&(1<<i) != 0 {
			continue
		}
		waba := g.biz[its[i].biz].waba
		out = append(sep(out), `{"id":"`...)
		out = append(out, g.biz[its[i].biz].WABA...)
		out = append(out, `","changes":[`...)
		for j := i; j < len(its); j++ {
			if done&(1<<j) == 0 && g.biz[its[j].biz].waba == waba {
				out = g.change(out, its, j, &done)
			}
		}
		out = append(out, ']', '}')
	}
	return append(out, ']', '}')
}

// change appends one change: item j and every later item of the same number, field and list.
func (g *Generator) change(out []byte, its []item, j int, done *uint8) []byte {
	var m uint8
	hasContacts := false
	for k := j; k < len(its); k++ {
		if its[k].biz == its[j].biz && its[k].field == its[j].field && its[k].list == its[j].list {
			m |= 1 << k
			hasContacts = hasContacts || its[k].ct.to > its[k].ct.from
		}
	}
	*done |= m
	b := &g.biz[its[j].biz]
	out = append(sep(out), `{"field":"`...)
	out = append(out, fieldNames[its[j].field]...)
	out = append(out, `","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"`...)
	out = append(out, b.DisplayPhone...)
	out = append(out, `","phone_number_id":"`...)
	out = append(out, b.PhoneNumberID...)
	out = append(out, '"', '}')
	if hasContacts {
		// Reverse order: a decoder must match contacts to events by user_id, not position.
		out = append(out, `,"contacts":[`...)
		for k := len(its) - 1; k >= j; k-- {
			if m&(1<<k) != 0 && its[k].ct.to > its[k].ct.from {
				out = append(sep(out), g.arena[its[k].ct.from:its[k].ct.to]...)
			}
		}
		out = append(out, ']')
	}
	out = append(key(out, listNames[its[j].list]), '[')
	for k := j; k < len(its); k++ {
		if m&(1<<k) != 0 {
			out = append(sep(out), g.arena[its[k].ev.from:its[k].ev.to]...)
		}
	}
	return append(out, ']', '}', '}')
}

// save keeps a copy of item 0 to re-send later inside another batch.
func (g *Generator) save() {
	it := &g.items[0]
	s := &g.saved[g.nsaved%len(g.saved)]
	if g.nsaved < len(g.saved) {
		g.nsaved++
	} else {
		s = &g.saved[g.rng.IntN(len(g.saved))]
	}
	s.user, s.biz = it.user, it.biz
	s.ev = append(s.ev[:0], g.arena[it.ev.from:it.ev.to]...)
	s.ct = append(s.ct[:0], g.arena[it.ct.from:it.ct.to]...)
}

// replay adds a saved message to this body, byte for byte.
func (g *Generator) replay(s *saved) {
	start := len(g.arena)
	g.arena = append(g.arena, s.ev...)
	mid := len(g.arena)
	g.arena = append(g.arena, s.ct...)
	g.add(s.user, s.biz, fieldMessages, listMessages, start, mid)
}
