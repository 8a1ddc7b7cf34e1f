package gen

// Call steps: connect/terminate events in calls[], and business-initiated call statuses
// in statuses[] of the calls field.
const (
	cConnect = 1 + iota
	cTerminate
	cRinging
	cAccepted
	cRejected
)

var callNames = [...]string{"", "connect", "terminate", "RINGING", "ACCEPTED", "REJECTED"}

// call makes a body of a call event: one that is due first, else a new call. A user
// call is connect then terminate; a business call is RINGING, ACCEPTED or REJECTED,
// then terminate. Terminate is COMPLETED with start/end/duration when answered, else
// FAILED without them.
func (g *Generator) call() {
	if p, ok := g.calls.popDue(g.now); ok {
		g.callEvent(&p)
		return
	}
	bizInit := g.rng.IntN(100) < 40
	u := int32(-1)
	if bizInit {
		u = g.pick(nil, 50, needReach)
	}
	if u < 0 {
		bizInit, u = false, g.pick(nil, 50, needAny)
	}
	g.seq++
	g.exp.Calls++
	p := pend{due: g.now, ts: g.now, seq: g.seq, user: u, biz: g.bizOf(&g.users[u]), bizInit: bizInit}
	answered := g.rng.IntN(100) < 70
	dur := int32(10 + g.rng.IntN(120))
	if g.rng.IntN(4) == 0 {
		dur += int32(g.rng.IntN(1800))
	}
	t := p
	t.step = cTerminate
	if bizInit {
		p.step = cRinging
		s := p
		s.step, s.ts = cAccepted, g.now+4+int64(g.rng.IntN(20))
		if !answered {
			s.step, s.ts = cRejected, g.now+3+int64(g.rng.IntN(15))
		}
		s.due = s.ts
		g.calls.push(s)
		t.ts = s.ts + 1
	} else {
		p.step = cConnect
		t.ts = g.now + 10 + int64(g.rng.IntN(35))
	}
	if answered {
		t.aux = t.ts + 2 + int64(g.rng.IntN(15))
		t.dur, t.ts = dur, t.aux+int64(dur)+1
	}
	t.due = t.ts
	g.calls.push(t)
	g.callEvent(&p)
}

func (g *Generator) callEvent(p *pend) {
	v := g.vis(&g.users[p.user])
	start := len(g.arena)
	b := append(g.arena, '{')
	b = g.qID(key(b, "id"), "wacid.", p.seq)
	list, parts := uint8(listCalls), pName|pUsername
	dir := "USER_INITIATED"
	switch {
	case p.step >= cRinging:
		list, parts = listStatuses, 0 // as in Meta's example: "profile": {}
		b = unix(str(str(b, "type", "call"), "status", callNames[p.step]), "timestamp", p.ts)
		b = g.who(b, p.user, v, "recipient_id", "recipient_user_id", "recipient_parent_user_id")
	case p.bizInit:
		dir = "BUSINESS_INITIATED"
		b = str(b, "from", g.biz[p.biz].DisplayPhone)
		b = g.who(b, p.user, v, "to", "to_user_id", "to_parent_user_id")
	default:
		b = g.who(b, p.user, v, "from", "from_user_id", "from_parent_user_id")
		b = str(b, "to", g.biz[p.biz].DisplayPhone)
	}
	if list == listCalls {
		b = unix(str(str(b, "event", callNames[p.step]), "direction", dir), "timestamp", p.ts)
	}
	switch {
	case p.step == cConnect:
		b = str(append(key(b, "session"), `{"sdp_type":"offer"`...), "sdp", sdpOffer)
		b = append(b, '}')
	case p.step == cTerminate && p.aux != 0:
		b = unix(unix(str(b, "status", "COMPLETED"), "start_time", p.aux), "end_time", p.aux+int64(p.dur))
		b = num(b, "duration", int64(p.dur))
		g.exp.CallSeconds += int64(p.dur)
	case p.step == cTerminate:
		b = str(b, "status", "FAILED")
	}
	if p.step == cTerminate && p.seq%3 == 0 {
		b = str(b, "biz_opaque_callback_data", "queue=sales")
	}
	b = append(b, '}')
	mid := len(b)
	g.arena = g.contact(b, p.user, v, parts)
	g.add(p.user, p.biz, fieldCalls, list, start, mid)
	g.touch(p.user, v)
}
