package gen

import "strconv"

// User kinds, as the BSUID rollout makes them; each exercises other identity rules.
const (
	kindPhone    = iota // no username: phone and BSUID in every webhook
	kindUsername        // username: BSUID only, phone hidden until shared on request
	kindMoving          // phone+BSUID until switchAt, then a username hides the phone
	kindLegacy          // phone only (pre-rollout) until switchAt, then phone+BSUID
)

// vis says which identifiers Meta shows for a user at this moment.
type vis uint8

const (
	vBSUID vis = 1 << iota
	vPhone
	vUsername
)

// user is kept small (no strings): identifiers are counters rendered on demand, so a
// million users cost tens of megabytes.
type user struct {
	bsuid, parent, phone uint32 // counters (ident.go renders them); parent 0 = none
	switchAt             uint32 // body number at which kindMoving and kindLegacy change
	lastClick            int64  // latest ad click, for free-entry-point pricing
	name                 uint16 // first name index*26 + initial
	country, kind, biz   uint8
	ads                  uint8 // bit i: clicked ad i, so one lead exists
	seen, shared         bool  // appeared in a valid event; phone shared on request
	// The current phone / BSUID appeared in a valid event. A failed status names one
	// identifier only; it names one already shown, or else one that later traffic is
	// sure to link, so that a correct pipeline still resolves a single contact.
	phoneShown, bsuidShown bool
}

type business struct {
	Business
	waba uint8
	key  []byte
}

func (g *Generator) initBusinesses() {
	n := g.cfg.Businesses
	nw := min(n, 2)
	g.wabaBiz = make([][]uint8, nw)
	waba := 102290129300000 + g.rng.Int64N(90000)*1000
	pnid := 106540352200000 + g.rng.Int64N(90000)*1000
	for i := 0; i < n; i++ {
		w := i * nw / n
		var d []byte
		d = pad(append(d, "1555"...), uint64(g.rng.IntN(1e7)), 7)
		id := strconv.FormatInt(pnid+int64(i)*7, 10)
		g.biz = append(g.biz, business{Business{strconv.FormatInt(waba+int64(w)*13, 10), id, string(d)},
			uint8(w), []byte(id)})
		g.wabaBiz[w] = append(g.wabaBiz[w], uint8(i))
	}
}

func (g *Generator) initUsers() {
	w := g.cfg.Webhooks
	g.users = make([]user, g.cfg.Users)
	for i := range g.users {
		u := &g.users[i]
		for x := g.rng.IntN(100); x >= countries[u.country].cum; {
			u.country++
		}
		u.biz = uint8(g.rng.IntN(len(g.biz)))
		u.name = uint16(g.rng.IntN(len(firstNames) * 26))
		u.bsuid, u.phone = g.next(0), g.next(2)
		if g.rng.IntN(5) == 0 {
			u.parent = g.next(1)
		}
		switch x := g.rng.IntN(100); {
		case x < 45:
			u.kind = kindPhone
		case x < 75:
			u.kind = kindUsername
		case x < 95:
			u.kind, u.switchAt = kindMoving, uint32(w/5+g.rng.IntN(w*3/5+1))
		default:
			u.kind, u.switchAt = kindLegacy, uint32(w/20+g.rng.IntN(w*11/20+1))
		}
	}
}

// next issues a new BSUID (0), parent BSUID (1) or phone (2) number.
func (g *Generator) next(c int) uint32 { g.ctr[c]++; return g.ctr[c] }

// vis is what Meta shows of user u in the body being made (body number g.n).
func (g *Generator) vis(u *user) vis {
	switch u.kind {
	case kindPhone:
		return vBSUID | vPhone
	case kindLegacy:
		if g.n < int(u.switchAt) {
			return vPhone
		}
		return vBSUID | vPhone
	case kindMoving:
		if g.n < int(u.switchAt) {
			return vBSUID | vPhone
		}
	}
	if u.shared { // Meta put the shared phone in the contact book: visible from now on
		return vBSUID | vPhone | vUsername
	}
	return vBSUID | vUsername
}

// touch notes that user i appeared in a valid event showing v.
func (g *Generator) touch(i int32, v vis) {
	u := &g.users[i]
	if !u.seen {
		u.seen = true
		g.exp.Contacts++
	}
	u.phoneShown = u.phoneShown || v&vPhone != 0
	u.bsuidShown = u.bsuidShown || v&vBSUID != 0
}

// bizOf is the number an event goes through: mostly the user's usual one, sometimes
// another of the same WABA (never another WABA: identity is per tenant).
func (g *Generator) bizOf(u *user) uint8 {
	if g.rng.IntN(10) == 0 {
		peers := g.wabaBiz[g.biz[u.biz].waba]
		return peers[g.rng.IntN(len(peers))]
	}
	return u.biz
}

// What pick requires of a user.
const (
	needAny   = iota
	needSeen  // appeared already
	needReach // the business can address them: seen, or phone visible
	needBSUID // seen and showing a BSUID: identity changes concern known users
)

// pick returns a user not in avoid: recentPct percent of the time someone who wrote
// lately (conversations go on), else a skewed draw (few users write a lot); -1 if none.
func (g *Generator) pick(avoid []int32, recentPct, need int) int32 {
	for try := 0; try < 8; try++ {
		var u int32
		if g.nrec > 0 && g.rng.IntN(100) < recentPct {
			u = g.recent[g.rng.IntN(min(g.nrec, len(g.recent)))]
		} else {
			x := g.rng.Float64()
			u = int32(x * x * float64(len(g.users)))
		}
		if g.fits(u, avoid, need) {
			return u
		}
	}
	// Rare (tiny populations, early stream): scan from a random user, deterministically.
	n := len(g.users)
	s := g.rng.IntN(n)
	for i := 0; i < n; i++ {
		if u := int32((s + i) % n); g.fits(u, avoid, need) {
			return u
		}
	}
	return -1
}

func (g *Generator) fits(i int32, avoid []int32, need int) bool {
	for _, a := range avoid {
		if a == i {
			return false
		}
	}
	u := &g.users[i]
	switch need {
	case needSeen:
		return u.seen
	case needReach:
		return u.seen || g.vis(u)&vPhone != 0
	case needBSUID:
		return u.seen && g.vis(u)&vBSUID != 0
	}
	return true
}
