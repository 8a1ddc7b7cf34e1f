package report

import (
	"github.com/wapipe/wapipe/model"
)

// inboundVersion: an inbound row never changes after its message arrives, so any fixed version works.
const inboundVersion = 1

// inbound applies a message the user sent: its chat row, and when it came through an ad, a touch.
//
// Only a message that came through an ad keeps a state in the window: it says the touch was
// counted, so that a replay does not count it again. Any other inbound message keeps none (it
// was most of the window's states and of the state's writes): its row is a function of the
// event, its contact and the contact's touches before its event time, so a replay writes the
// same row again, one row after FINAL.
func (b *Builder) inbound(txn tx, ev *model.Event, who model.Who) ([]model.Row, error) {
	if ev.MessageType == "system" {
		return nil, nil // number/BSUID changes write no chat row (contract 6)
	}
	ref := ev.Referral
	if ref != nil && ref.SourceID == "" {
		ref = nil // no ad id, nothing to attribute to
	}
	if ref == nil {
		ts, err := loadTouches(txn, ev.Tenant, who.ContactID)
		if err != nil {
			return nil, err
		}
		t, _ := ts.attribute(ev.At, b.window)
		return []model.Row{inboundRow(ev, who, t.ad, t.clid)}, nil
	}
	var m msgState
	st, err := txn.open(windowMsg, ev.Tenant, ev.ID, ev.At, m.decode)
	if err != nil {
		return nil, err
	}
	if !st.found { // the referral message's own row carries its ad
		m = msgState{contact: who.ContactID, flags: fInbound, sentAt: ev.At, statusAt: ev.At, ad: ref.SourceID, clid: ref.CtwaClid}
	}
	rows := make([]model.Row, 0, 2)
	count := m.flags&fTouched == 0 // a replayed referral returns its lead but is not counted again
	lead, err := b.touchLead(txn, ev, ref, who, count)
	if err != nil {
		return nil, err
	}
	if count {
		m.flags |= fTouched
		if err := txn.set(st.key, m.encode()); err != nil {
			return nil, err
		}
	}
	if lead != nil {
		rows = append(rows, lead)
	}
	return append(rows, inboundRow(ev, who, m.ad, m.clid)), nil
}

func inboundRow(ev *model.Event, who model.Who, ad, clid string) *model.ChatRow {
	return &model.ChatRow{
		Tenant: ev.Tenant, WABA: ev.WABA, PhoneNumberID: ev.PhoneNumberID, MessageID: ev.ID,
		Direction: "inbound", MessageType: ev.MessageType, Status: "received",
		SentAt: ev.At, StatusAt: ev.At, AdSourceID: ptr(ad), CtwaClid: ptr(clid),
		Who: who, Version: inboundVersion, FirstEventAt: ev.At, // an inbound row has one version
	}
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
