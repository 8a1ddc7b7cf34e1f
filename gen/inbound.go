package gen

import "strconv"

// Inbound message types.
const (
	tText = iota
	tImage
	tLocation
	tButton
	tReaction
	tShare // contacts with origin contact_request: the sender's own phone, on request
	tCard  // contacts with origin other: somebody's card, shared by hand
)

var typeNames = [...]string{"text", "image", "location", "interactive", "reaction", "contacts", "contacts"}

// inbound makes a body of user messages: mostly one, sometimes a batch of 2-3 users,
// rarely a batch that repeats an earlier message.
func (g *Generator) inbound() {
	if g.nsaved > 0 && len(g.users) >= 3 && g.rng.IntN(200) == 0 {
		g.rebatch()
		return
	}
	k := 1
	if g.rng.IntN(100) < 8 {
		k = 2 + g.rng.IntN(2)
	}
	var used [3]int32
	for i := 0; i < k; i++ {
		if used[i] = g.pick(used[:i], 50, needAny); used[i] < 0 {
			break
		}
		g.message(used[i], -1)
	}
	if g.nitems == 1 && g.rng.IntN(50) == 0 {
		g.save()
	}
}

// rebatch re-sends a delivered message inside a new batch with other users' messages:
// Meta's re-deliveries are not always the same bytes.
func (g *Generator) rebatch() {
	s := &g.saved[g.rng.IntN(g.nsaved)]
	first := g.rng.IntN(2) == 0
	if first {
		g.replay(s)
	}
	used := [3]int32{s.user}
	for i := 1; i <= 1+g.rng.IntN(2); i++ {
		if used[i] = g.pick(used[:i], 50, needAny); used[i] < 0 {
			break
		}
		g.message(used[i], -1)
	}
	if !first {
		g.replay(s)
	}
	g.exp.Rebatched++
}

// message renders one inbound message of user u (of type forced, if >= 0) and counts
// what it teaches: a contact, maybe a lead, maybe a shared phone.
func (g *Generator) message(u int32, forced int) {
	us := &g.users[u]
	v := g.vis(us)
	typ, ref := forced, -1
	if typ < 0 {
		typ = g.pickType(v)
		if typ <= tImage && g.rng.IntN(100) < 6 {
			ref = g.rng.IntN(len(ads))
		}
	}
	bz := g.bizOf(us)
	start := len(g.arena)
	b := append(g.arena, '{')
	b = g.who(b, u, v, "from", "from_user_id", "from_parent_user_id")
	if typ == tButton {
		b = append(key(b, "context"), '{')
		b = g.qID(key(str(b, "from", g.biz[bz].DisplayPhone), "id"), "wamid.", g.lastOut)
		b = append(b, '}')
	}
	g.seq++
	b = g.qID(key(b, "id"), "wamid.", g.seq)
	b = unix(b, "timestamp", g.now)
	b = str(b, "type", typeNames[typ])
	b = g.payload(b, us, typ)
	if ref >= 0 {
		b = g.referral(b, ref)
	}
	b = append(b, '}')
	mid := len(b)
	g.arena = g.contact(b, u, v, pName|pUsername)
	g.add(u, bz, fieldMessages, listMessages, start, mid)

	g.touch(u, v)
	g.exp.InboundMessages++
	g.recent[g.nrec%len(g.recent)] = u
	g.nrec++
	if typ == tShare {
		us.shared, us.phoneShown = true, true
		g.exp.ContactRequests++
	}
	if ref >= 0 {
		g.exp.Referrals++
		us.lastClick = g.now
		if us.ads&(1<<ref) == 0 {
			us.ads |= 1 << ref
			g.exp.Leads++
		}
	}
}

func (g *Generator) pickType(v vis) int {
	switch x := g.rng.IntN(100); {
	case x < 4 && v&vPhone == 0: // only users whose phone is hidden are asked for it
		return tShare
	case x < 70:
		return tText
	case x < 78:
		return tImage
	case x < 82:
		return tLocation
	case x < 89:
		return tButton
	case x < 95:
		return tReaction
	case x < 97:
		return tCard
	}
	return tText
}

func (g *Generator) payload(b []byte, u *user, typ int) []byte {
	switch typ {
	case tText:
		b = append(key(b, "text"), `{"body":"`...)
		b = append(append(b, texts[g.rng.IntN(len(texts))]...), '"', '}')
	case tImage:
		b = append(key(b, "image"), '{')
		if c := captions[g.rng.IntN(len(captions))]; c != "" {
			b = str(b, "caption", c)
		}
		b = g.qRandom(key(str(b, "mime_type", "image/jpeg"), "sha256"), "", 4)
		b = append(pad(append(key(b, "id"), '"'), g.rng.Uint64()%1e16, 16), '"', '}')
	case tLocation:
		c := &countries[u.country]
		b = append(key(b, "location"), '{')
		b = strconv.AppendFloat(key(b, "latitude"), c.lat+g.rng.Float64()/10, 'f', 5, 64)
		b = strconv.AppendFloat(key(b, "longitude"), c.lon+g.rng.Float64()/10, 'f', 5, 64)
		b = append(str(str(b, "name", "Casa"), "address", c.city), '}')
	case tButton:
		bt := &buttons[g.rng.IntN(len(buttons))]
		b = append(key(b, "interactive"), `{"type":"button_reply","button_reply":{`...)
		b = append(str(str(b, "id", bt.id), "title", bt.title), '}', '}')
	case tReaction:
		b = g.qID(key(append(key(b, "reaction"), '{'), "message_id"), "wamid.", g.lastOut)
		b = append(str(b, "emoji", emojis[g.rng.IntN(len(emojis))]), '}')
	case tShare:
		b = g.card(b, "contact_request", u.name, u.country, u.phone, false)
	case tCard:
		// Somebody else's card: half the time another user's phone, which must not
		// become the sender's (contract 4, rule 5).
		o := &g.users[g.rng.IntN(len(g.users))]
		other := g.rng.IntN(2) == 0
		n := o.phone
		if other {
			n = g.rng.Uint32()
		}
		b = g.card(b, "other", o.name, o.country, n, other)
	}
	return b
}
