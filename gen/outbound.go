package gen

// Message status steps, in the contract's rank order; failed outranks all.
const (
	stSent = 1 + iota
	stDelivered
	stRead
	stFailed
)

var statusNames = [...]string{"", "sent", "delivered", "read", "failed"}

// statuses makes a body of outbound message statuses: follow-ups that are due first,
// else a new message; sometimes a batch of 2-3 users.
func (g *Generator) statuses() {
	k := 1
	if g.rng.IntN(100) < 10 {
		k = 2 + g.rng.IntN(2)
	}
	var used [3]int32
	for i := 0; i < k; i++ {
		if p, ok := g.msgs.popDue(g.now); ok {
			if !has(used[:i], p.user) {
				used[i] = p.user
				g.status(&p)
				continue
			}
			g.msgs.push(p)
		}
		if used[i] = g.pick(used[:i], 65, needReach); used[i] < 0 {
			if i == 0 { // nobody can be written to yet: someone writes first
				g.message(g.pick(nil, 0, needAny), -1)
			}
			return
		}
		g.send(used[i])
	}
}

func has(s []int32, u int32) bool {
	for _, x := range s {
		if x == u {
			return true
		}
	}
	return false
}

// send starts an outbound message: its first status now, the others scheduled.
// Pricing rides on sent and on delivered, or on read when delivered is skipped.
func (g *Generator) send(u int32) {
	us := &g.users[u]
	g.seq++
	g.lastOut = g.seq
	g.exp.OutboundMessages++
	p := pend{due: g.now, ts: g.now, seq: g.seq, user: u, biz: g.bizOf(us)}
	if g.rng.IntN(100) < 5 { // failures come alone: no sent, no pricing, no contacts
		p.step, p.slot = stFailed, g.newSlot(1)
		g.status(&p)
		return
	}
	p.step, p.price = stSent, g.pickPrice(us)
	if p.price == priceEntry {
		p.aux = us.lastClick
	}
	g.exp.UsageRows++
	hasD, hasR := g.rng.IntN(100) < 92, g.rng.IntN(100) < 55
	d, r := p, p
	d.step, d.ts = stDelivered, g.now+1+int64(g.rng.IntN(20))
	r.step, r.ts = stRead, d.ts+g.readDelay()
	d.due, r.due = d.ts, r.ts
	if hasD {
		r.price = 0
	}
	left := uint8(1)
	if hasD {
		left++
	}
	if hasR {
		left++
	}
	p.slot = g.newSlot(left)
	d.slot, r.slot = p.slot, p.slot
	switch x := g.rng.IntN(100); {
	case hasD && hasR && x < 8: // read arrives before delivered
		d.due = r.ts + 1 + int64(g.rng.IntN(30))
	case hasD && x >= 97: // the sent webhook comes late, after delivered
		p.ts, p.due = g.now-1-int64(g.rng.IntN(20)), g.now+5+int64(g.rng.IntN(60))
		d.ts, d.due = g.now, g.now
		p, d = d, p
	}
	g.status(&p)
	if hasD {
		g.msgs.push(d)
	}
	if hasR {
		g.msgs.push(r)
	}
}

// pickPrice: clicked an ad lately, free entry point; writing to a known user, mostly
// free customer service; otherwise templates, mostly marketing.
func (g *Generator) pickPrice(u *user) uint8 {
	x := g.rng.IntN(100)
	switch {
	case u.lastClick != 0 && g.now-u.lastClick < 72*3600 && x < 50:
		return priceEntry
	case u.seen && x < 40:
		return 5
	case u.seen && x < 55:
		return 6
	case x < 80:
		return priceMarketing
	case x < 90:
		return 2
	case x < 97:
		return 3
	}
	return 4
}

func (g *Generator) readDelay() int64 {
	switch x := g.rng.IntN(10); {
	case x < 6:
		return 5 + int64(g.rng.IntN(300))
	case x < 9:
		return 300 + int64(g.rng.IntN(3300))
	}
	return 3600 + int64(g.rng.IntN(5*3600))
}

// status renders one message status as Meta sends it for the user at this moment.
func (g *Generator) status(p *pend) {
	us := &g.users[p.user]
	v := g.vis(us)
	if p.step == stFailed {
		// Failed statuses name one identifier: the phone when the business wrote to it
		// (it was shown before, or there is no BSUID yet), else the BSUID.
		if v&vBSUID != 0 && (v&vPhone == 0 || !us.phoneShown) {
			v = vBSUID
		} else {
			v = vPhone
		}
	}
	start := len(g.arena)
	b := append(g.arena, '{')
	b = g.qID(key(b, "id"), "wamid.", p.seq)
	b = unix(str(b, "status", statusNames[p.step]), "timestamp", p.ts)
	if p.step == stFailed {
		b = append(g.who(b, p.user, v, "recipient_id", "recipient_user_id", ""), err131049...)
	} else {
		b = g.who(b, p.user, v, "recipient_id", "recipient_user_id", "recipient_parent_user_id")
	}
	if p.step == stSent && p.price == priceMarketing {
		b = str(b, "biz_opaque_callback_data", "campaign=jun-promo")
	}
	if p.price == priceEntry { // v24+: conversation only inside a free-entry-point window
		b = hex16(hex16(append(key(append(key(b, "conversation"), '{'), "id"), '"'), mix(uint64(p.aux)^uint64(p.user))), g.mix)
		b = append(b, '"')
		if p.step == stSent {
			b = unix(b, "expiration_timestamp", p.aux+72*3600)
		}
		b = append(key(b, "origin"), `{"type":"referral_conversion"}}`...)
	}
	if p.price != 0 {
		pr := &prices[p.price]
		b = append(append(key(b, "pricing"), '{'), `"billable":`...)
		b = append(b, pr.billable...)
		b = str(str(str(b, "pricing_model", "PMP"), "type", pr.typ), "category", pr.category)
		b = append(b, '}')
	}
	b = append(b, '}')
	mid := len(b)
	if p.step != stFailed && v&vBSUID != 0 { // no contacts before the rollout or on failed
		parts := pName
		if p.step != stSent {
			parts |= pUsername
		}
		b = g.contact(b, p.user, v, parts)
	}
	g.arena = b
	g.add(p.user, p.biz, fieldMessages, listStatuses, start, mid)
	g.touch(p.user, v)
	g.settle(p)
}
