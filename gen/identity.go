package gen

// identityChange makes a known user change number, which gives a new BSUID (and new
// parent BSUID): user_changed_number when Meta may show the phone (with the old phone
// in from and the new one in system.wa_id), else user_changed_user_id. Afterwards the
// user's traffic carries the new identifiers; a correct pipeline keeps one contact.
func (g *Generator) identityChange() {
	u := g.pick(nil, 70, needBSUID)
	if u < 0 {
		g.message(g.pick(nil, 50, needAny), -1)
		return
	}
	us := &g.users[u]
	v := g.vis(us)
	old := *us
	phone := v&vPhone != 0
	// The new number is in no contact book; only user_changed_number shows it.
	us.bsuid, us.phone, us.shared = g.next(0), g.next(2), false
	us.phoneShown, us.bsuidShown = phone, true
	if us.parent != 0 {
		us.parent = g.next(1)
	}
	start := len(g.arena)
	b := append(g.arena, '{')
	if phone {
		b = g.qPhone(key(b, "from"), old.country, old.phone)
	}
	g.seq++
	b = g.qID(key(b, "id"), "wamid.", g.seq)
	b = str(unix(b, "timestamp", g.now), "type", "system")
	b = append(name(append(key(append(key(b, "system"), '{'), "body"), `"User `...), us.name), " changed from "...)
	if phone {
		b = append(g.phone(append(g.phone(b, old.country, old.phone, false), " to "...), us.country, us.phone, false), '"')
		b = str(g.qPhone(key(b, "wa_id"), us.country, us.phone), "type", "user_changed_number")
	} else {
		b = append(g.bsuid(append(g.bsuid(b, old.country, old.bsuid), " to "...), us.country, us.bsuid), '"')
		b = str(b, "type", "user_changed_user_id")
	}
	b = g.qBSUID(key(b, "user_id"), us.country, us.bsuid)
	if us.parent != 0 {
		b = g.qParent(key(b, "parent_user_id"), us.country, us.parent)
	}
	b = g.qBSUID(key(b, "previous_user_id"), old.country, old.bsuid)
	if old.parent != 0 {
		b = g.qParent(key(b, "previous_parent_user_id"), old.country, old.parent)
	}
	g.arena = append(b, '}', '}')
	g.add(u, g.bizOf(us), fieldMessages, listMessages, start, len(g.arena))
	g.exp.IdentityChanges++
}
