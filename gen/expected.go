package gen

// Expected is what a correct pipeline makes of the bodies produced so far, after every
// body was consumed and the tables read with FINAL (contract sections 3 to 6). It is
// final once Next returned false.
//
// Everything is counted once however often it was delivered: duplicates, re-batched
// messages and statuses that repeat pricing add nothing. Events a pipeline must reject
// (poison) count nowhere, but the valid sibling of an invalid event does.
type Expected struct {
	Bodies      int // bodies produced, duplicates and poison included
	Duplicates  int // byte-for-byte re-deliveries among them
	Rebatched   int // bodies that repeat an earlier message inside a different batch
	DeadLetters int // poison bodies: each must be dead-lettered exactly once

	ChatRows  int // chat_report rows: InboundMessages + OutboundMessages
	UsageRows int // package_usage_report rows: outbound wamids that carried pricing
	VoiceRows int // voice_report rows: distinct call ids (= Calls)
	Leads     int // leads rows: distinct (contact, ad source_id)
	Contacts  int // identities rows with merged_into = '': users who appeared in a valid event

	InboundMessages  int // distinct inbound message ids, system messages excluded
	OutboundMessages int // distinct outbound wamids, whatever their statuses
	Calls            int // distinct call ids
	CallSeconds      int64
	IdentityChanges  int // distinct user_changed_number / user_changed_user_id messages
	Referrals        int // distinct inbound messages with a CTWA referral: lead touches
	ContactRequests  int // distinct phones shared with origin contact_request

	// Outbound chat_report rows by final status (rank: sent < delivered < read; failed
	// outranks all), however the statuses arrived.
	OutboundSent, OutboundDelivered, OutboundRead, OutboundFailed int
}

// Expected returns the counts for the bodies produced so far; see the type.
func (g *Generator) Expected() Expected {
	e := g.exp
	e.Bodies = g.n
	e.ChatRows = e.InboundMessages + e.OutboundMessages
	e.VoiceRows = e.Calls
	e.OutboundSent, e.OutboundDelivered = g.final[stSent], g.final[stDelivered]
	e.OutboundRead, e.OutboundFailed = g.final[stRead], g.final[stFailed]
	return e
}

// msgState is an outbound message whose statuses are not all out yet.
type msgState struct{ rank, left uint8 }

func (g *Generator) newSlot(left uint8) int32 {
	if n := len(g.free); n > 0 {
		s := g.free[n-1]
		g.free = g.free[:n-1]
		g.states[s] = msgState{left: left}
		return s
	}
	g.states = append(g.states, msgState{left: left})
	return int32(len(g.states) - 1)
}

// settle keeps the counts by final status exact whatever order the statuses come in.
func (g *Generator) settle(p *pend) {
	s := &g.states[p.slot]
	if p.step > s.rank {
		g.final[s.rank]--
		g.final[p.step]++
		s.rank = p.step
	}
	if s.left--; s.left == 0 {
		g.free = append(g.free, p.slot)
	}
}
