package report

import (
	"github.com/wapipe/wapipe/model"
)

// Message status ranks (contract 6): later statuses win by rank, not by arrival; failed outranks all.
const (
	rankSent      = 1
	rankDelivered = 2
	rankRead      = 3
	rankPlayed    = 4
	rankFailed    = 5
)

var rankName = [...]string{"", "sent", "delivered", "read", "played", "failed"}

func statusRank(s string) uint8 {
	for r := rankSent; r <= rankFailed; r++ {
		if rankName[r] == s {
			return uint8(r)
		}
	}
	return 0
}

// chatVersion orders rows of one message: rank, then the shown status's time, then the emission
// sequence. The sequence is why this is not just rank<<32|status_at: a late lower-ranked status
// (sent after read) changes sent_at but not rank or status_at, and its row must still replace the
// earlier one. A row from a worker that saw a better status still wins on rank.
func chatVersion(rank uint8, statusAt int64, seq uint8) uint64 {
	return uint64(rank)<<40 | uint64(uint32(statusAt))<<8 | uint64(seq)
}

// usageVersion makes the earliest billed_at win, on this worker and across workers: the row that
// counts is the first status that carried pricing (contract 6).
func usageVersion(billedAt int64) uint64 { return 1<<40 - uint64(uint32(billedAt)) }

// status applies one status of an outbound message.
func (b *Builder) status(txn tx, ev *model.Event, who model.Who) ([]model.Row, error) {
	rank := statusRank(ev.Status)
	if rank == 0 {
		return nil, nil // not a message status the contract knows; the decoder should have refused it
	}
	var m msgState
	st, err := txn.open(windowMsg, ev.Tenant, ev.ID, ev.At, m.decode)
	if err != nil {
		return nil, err
	}
	k, found := st.key, st.found
	if found && m.seen&(1<<rank) != 0 {
		// Already applied: a replay after a crash. Return the current rows; same versions, so harmless.
		return m.rows(ev, who), nil
	}
	old := m
	var ts touches
	if !found || ev.Pricing != nil {
		if ts, err = loadTouches(txn, ev.Tenant, who.ContactID); err != nil {
			return nil, err
		}
	}
	if !found {
		// Attribution is decided once, at the first status, so a message's rows never flip ads.
		if t, ok := ts.attribute(ev.At, b.window); ok {
			m.ad, m.clid = t.ad, t.clid
		}
		m.sentAt, m.firstAt = ev.At, ev.At
	}
	m.contact = who.ContactID
	m.seen |= 1 << rank
	switch {
	case rank == rankSent:
		m.sentAt, m.flags = ev.At, m.flags|fSent
	case m.flags&fSent == 0 && ev.At < m.sentAt:
		m.sentAt = ev.At // no sent yet: the earliest status stands in for it
	}
	if rank > m.rank { // an equal rank keeps the row already shown
		m.rank, m.statusAt = rank, ev.At
		m.flags &^= fErr
		if rank == rankFailed && ev.ErrorCode != nil {
			m.flags, m.errCode = m.flags|fErr, *ev.ErrorCode
		}
	}
	chatChanged := !found || m.rank != old.rank || m.sentAt != old.sentAt || m.statusAt != old.statusAt
	usageChanged := false
	if ev.Pricing != nil && rank != rankFailed && (m.flags&fUsage == 0 || ev.At < m.billedAt) {
		b.setUsage(&m, ev, ts)
		usageChanged = true
	}
	if chatChanged && m.seq < 255 {
		m.seq++
	}
	if err := txn.set(k, m.encode()); err != nil {
		return nil, err
	}
	rows := make([]model.Row, 0, 2)
	if chatChanged {
		rows = append(rows, m.chatRow(ev, who))
	}
	if usageChanged {
		rows = append(rows, m.usageRow(ev, who))
	}
	return rows, nil
}

// setUsage records the pricing of ev as the message's usage: the first pricing seen, or an
// earlier-timestamped one that arrived late (billed_at is the first status that carried pricing).
func (b *Builder) setUsage(m *msgState, ev *model.Event, ts touches) {
	p := ev.Pricing
	m.flags |= fUsage
	m.billedAt, m.pModel, m.pType, m.category = ev.At, p.Model, p.Type, p.Category
	m.billable = 0
	if p.Billable != nil {
		m.billable = 1
		if *p.Billable {
			m.billable = 2
		}
	}
	if c := ev.Conversation; c != nil { // conversation is often on sent only: keep what we have
		m.convID, m.convOrigin = c.ID, c.OriginType
	}
	m.usageAd = ""
	if t, ok := ts.attribute(ev.At, b.window); ok {
		m.usageAd = t.ad
	} else if p.Category == "referral_conversion" || p.Type == "free_entry_point" {
		// A free-entry-point conversation exists only because of an ad: name it even outside the window.
		if t, ok := ts.latestBefore(ev.At); ok {
			m.usageAd = t.ad
		}
	}
}

// rows is what a replayed status returns: the current chat row and usage row.
func (m *msgState) rows(ev *model.Event, who model.Who) []model.Row {
	rows := []model.Row{m.chatRow(ev, who)}
	if m.flags&fUsage != 0 {
		rows = append(rows, m.usageRow(ev, who))
	}
	return rows
}

func (m *msgState) chatRow(ev *model.Event, who model.Who) *model.ChatRow {
	r := &model.ChatRow{
		Tenant: ev.Tenant, WABA: ev.WABA, PhoneNumberID: ev.PhoneNumberID, MessageID: ev.ID,
		Direction: "outbound", Status: rankName[m.rank], SentAt: m.sentAt, StatusAt: m.statusAt,
		AdSourceID: ptr(m.ad), CtwaClid: ptr(m.clid), Who: who,
		Version: chatVersion(m.rank, m.statusAt, m.seq), FirstEventAt: m.firstAt,
	}
	if m.flags&fErr != 0 {
		code := m.errCode
		r.ErrorCode = &code
	}
	return r
}

func (m *msgState) usageRow(ev *model.Event, who model.Who) *model.UsageRow {
	r := &model.UsageRow{
		Tenant: ev.Tenant, WABA: ev.WABA, PhoneNumberID: ev.PhoneNumberID, MessageID: ev.ID,
		BilledAt: m.billedAt, PricingModel: m.pModel, PricingType: m.pType, Category: m.category,
		ConversationID: ptr(m.convID), ConversationOrigin: ptr(m.convOrigin), AdSourceID: ptr(m.usageAd),
		Who: who, Version: usageVersion(m.billedAt), FirstEventAt: m.firstAt,
	}
	if m.billable != 0 {
		v := m.billable - 1
		r.Billable = &v
	}
	return r
}
