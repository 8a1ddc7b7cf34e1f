package report

import (
	"github.com/wapipe/wapipe/model"
)

// inboundVersion: an inbound row never changes after its message arrives, so any fixed version works.
const inboundVersion = 1

// inbound applies a message the user sent: its chat row, and when it came through an ad, a touch.
func (b *Builder) inbound(txn tx, ev *model.Event, who model.Who) ([]model.Row, error) {
	if ev.MessageType == "system" {
		return nil, nil // number/BSUID changes write no chat row (contract 6)
	}
	var m msgState
	st, err := txn.open(windowMsg, ev.Tenant, ev.ID, ev.At, m.decode)
	if err != nil {
		return nil, err
	}
	k, found := st.key, st.found
	ref := ev.Referral
	if ref != nil && ref.SourceID == "" {
		ref = nil // no ad id, nothing to attribute to
	}
	dirty := !found
	if !found {
		m = msgState{contact: who.ContactID, flags: fInbound, sentAt: ev.At, statusAt: ev.At}
		if ref != nil { // the referral message's own row carries its ad
			m.ad, m.clid = ref.SourceID, ref.CtwaClid
		} else {
			ts, err := loadTouches(txn, ev.Tenant, who.ContactID)
			if err != nil {
				return nil, err
			}
			if t, ok := ts.attribute(ev.At, b.window); ok {
				m.ad, m.clid = t.ad, t.clid
			}
		}
	}
	rows := make([]model.Row, 0, 2)
	if ref != nil {
		count := m.flags&fTouched == 0 // a replayed referral returns its lead but is not counted again
		lead, err := b.touchLead(txn, ev, ref, who, count)
		if err != nil {
			return nil, err
		}
		if count {
			m.flags |= fTouched
			dirty = true
		}
		if lead != nil {
			rows = append(rows, lead)
		}
	}
	if dirty {
		if err := txn.set(k, m.encode()); err != nil {
			return nil, err
		}
	}
	return append(rows, &model.ChatRow{
		Tenant: ev.Tenant, WABA: ev.WABA, PhoneNumberID: ev.PhoneNumberID, MessageID: ev.ID,
		Direction: "inbound", MessageType: ev.MessageType, Status: "received",
		SentAt: ev.At, StatusAt: ev.At, AdSourceID: ptr(m.ad), CtwaClid: ptr(m.clid),
		Who: who, Version: inboundVersion, FirstEventAt: ev.At, // an inbound row has one version
	}), nil
}

// touchLead counts one touch on the (tenant, contact, ad) lead when count is set, records it as the
// contact's latest touch, and returns the lead row either way.
func (b *Builder) touchLead(txn tx, ev *model.Event, ref *model.Referral, who model.Who, count bool) (*model.LeadRow, error) {
	k := key(pfxLead, ev.Tenant, who.ContactID, ref.SourceID)
	var l leadState
	found, err := txn.get(k, l.decode)
	if err != nil {
		return nil, err
	}
	if !count {
		if !found {
			return nil, nil
		}
		return l.row(ev.Tenant, ref.SourceID, who), nil
	}
	l.touch(leadState{
		touches: 1, ids: touchOf(ev.ID), firstAt: ev.At, lastAt: ev.At, firstMsg: ev.ID, sourceType: ref.SourceType,
		sourceURL: ref.SourceURL, headline: ref.Headline, mediaType: ref.MediaType, clid: ref.CtwaClid,
		pnid: ev.PhoneNumberID,
	})
	if err := txn.set(k, l.encode()); err != nil { // no TTL: a lead is kept for good
		return nil, err
	}
	ts, err := loadTouches(txn, ev.Tenant, who.ContactID)
	if err != nil {
		return nil, err
	}
	if ts, changed := ts.add(touch{ad: ref.SourceID, clid: ref.CtwaClid, at: ev.At}); changed {
		if err := ts.save(txn, ev.Tenant, who.ContactID); err != nil {
			return nil, err
		}
	}
	return l.row(ev.Tenant, ref.SourceID, who), nil
}
