package report

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/wapipe/wapipe/model"
)

// leadState is one (tenant, contact, ad) lead.
type leadState struct {
	touches, rev                              uint32 // rev counts changes: the row version's high half
	firstAt, lastAt                           int64
	firstMsg, sourceType, sourceURL, headline string
	mediaType, clid, pnid, mergedInto         string // mergedInto: this lead moved to that contact
	// ids are the referral messages counted in touches (touchset.go). A set, so that joining
	// the same lead from two workers, or from a merge replayed, counts each touch once.
	ids touchSet
}

// touch adds o's touches to l: a single new touch, a merged contact's whole lead, or the same
// lead as another worker has it. Touch ids are unioned, so a touch both hold counts once. The
// first touch is the earliest by event time; the ad fields and phone number come from the latest
// touch; ctwa_clid is the latest one that has any (ads in WhatsApp Status have none).
func (l *leadState) touch(o leadState) {
	rev := max(l.rev, o.rev) + 1
	if l.touches == 0 { // a new lead, or a merged-away one that gets traffic again
		*l = o
		l.ids = slices.Clone(o.ids)
		if len(l.ids) > 0 {
			l.touches = l.ids.count()
		}
		l.rev, l.mergedInto = rev, ""
		return
	}
	if o.firstAt < l.firstAt {
		l.firstAt, l.firstMsg = o.firstAt, o.firstMsg
	}
	if o.lastAt >= l.lastAt {
		l.lastAt, l.sourceType, l.sourceURL, l.headline = o.lastAt, o.sourceType, o.sourceURL, o.headline
		l.mediaType, l.pnid = o.mediaType, o.pnid
		if o.clid != "" {
			l.clid = o.clid
		}
	} else if l.clid == "" {
		l.clid = o.clid
	}
	if len(l.ids) == 0 && len(o.ids) == 0 { // state written before ids were kept
		l.touches += o.touches
	} else {
		l.ids = l.ids.union(o.ids)
		l.touches = l.ids.count()
	}
	l.rev = rev
}

// covers says whether l already holds everything o would add.
func (l *leadState) covers(o *leadState) bool {
	if l.touches == 0 || l.firstAt > o.firstAt || l.lastAt < o.lastAt || l.clid == "" && o.clid != "" {
		return false
	}
	return l.ids.covers(o.ids)
}

// row: the version's high half is rev, so every change (a touch, a merge, a tombstone) replaces
// the previous row even when last_touch_at stays.
func (l *leadState) row(tenant, ad string, who model.Who) *model.LeadRow {
	return &model.LeadRow{
		Tenant: tenant, ContactID: who.ContactID, AdSourceID: ad, SourceType: l.sourceType,
		SourceURL: l.sourceURL, Headline: l.headline, MediaType: l.mediaType, CtwaClid: l.clid,
		FirstMessageID: l.firstMsg, FirstTouchAt: l.firstAt, LastTouchAt: l.lastAt, Touches: l.touches,
		PhoneNumberID: l.pnid, Who: who, Version: uint64(l.rev)<<32 | uint64(uint32(l.lastAt)),
	}
}

func (l *leadState) encode() []byte {
	e := make(enc, 0, 96+len(l.sourceURL)+len(l.headline)+len(l.clid)+8*len(l.ids))
	e = append(e, formatLead)
	e.u(uint64(l.touches))
	e.u(uint64(l.rev))
	e.i(l.firstAt)
	e.i(l.lastAt)
	for _, s := range [...]string{l.firstMsg, l.sourceType, l.sourceURL, l.headline, l.mediaType, l.clid, l.pnid, l.mergedInto} {
		e.s(s)
	}
	e.u(uint64(len(l.ids)))
	for _, h := range l.ids {
		e = binary.BigEndian.AppendUint64(e, h)
	}
	return e
}

// formatLead leads a lead state written with its touches as hashes; formatV1 ones hold the
// message ids themselves, without a bound.
const formatLead = 2

func (l *leadState) decode(b []byte) error {
	format := byte(0)
	if len(b) > 0 {
		format = b[0]
	}
	d := newDec(b)
	if format == formatLead {
		d = dec{b: b[1:]} // the same fields as formatV1 up to the touches
	}
	l.touches, l.rev = uint32(d.u()), uint32(d.u())
	l.firstAt, l.lastAt = d.i(), d.i()
	l.firstMsg, l.sourceType, l.sourceURL, l.headline = d.s(), d.s(), d.s(), d.s()
	l.mediaType, l.clid, l.pnid, l.mergedInto = d.s(), d.s(), d.s(), d.s()
	if len(d.b) > 0 && d.err == nil { // older values end here
		n := d.u()
		if n > uint64(len(d.b)) {
			return ErrCorrupt
		}
		if format == formatLead {
			return l.decodeHashes(&d, n)
		}
		ids := make([]string, n)
		for i := range ids {
			ids[i] = d.s()
		}
		l.ids = touchesOf(ids)
	}
	return d.err
}

func (l *leadState) decodeHashes(d *dec, n uint64) error {
	if d.err != nil || n > maxTouchIDs || uint64(len(d.b)) < 8*n {
		return ErrCorrupt
	}
	l.ids = make(touchSet, n)
	for i := range l.ids {
		l.ids[i] = binary.BigEndian.Uint64(d.b[8*i:])
	}
	d.b = d.b[8*n:]
	return nil
}

// MergeContacts moves the loser's leads onto the survivor after an identity merge (contract 6):
// their leads for the same ad become one lead of the survivor, earliest first touch, touches added.
// It returns, per ad, the survivor's merged lead row and the loser's lead row re-emitted with
// touches 0 and a higher version. Why the tombstone rather than leaving the loser's row as history:
// sum(touches) over leads FINAL then counts every touch exactly once, and
// `count() FROM leads FINAL WHERE touches > 0` counts one lead per (contact, ad) of live contacts.
// The loser's row itself cannot vanish from FINAL (no is_deleted on ClickHouse 18.16).
// who is the survivor's identity. Calling it again (a replay) changes nothing and returns the same rows.
func (b *Builder) MergeContacts(tenant, loser, survivor string, who model.Who) ([]model.Row, error) {
	if loser == "" || survivor == "" || loser == survivor {
		return nil, nil
	}
	who.ContactID = survivor
	gone := who
	gone.ContactID = loser
	var rows []model.Row
	err := b.update(0, func(txn tx) error { // no event time: leads only
		rows = rows[:0]
		pfx := key(pfxLead, tenant, loser, "")
		type lead struct {
			ad string
			st leadState
		}
		var leads []lead
		if err := txn.st.Scan(pfx, func(k, v []byte) error {
			var st leadState
			leads = append(leads, lead{string(bytes.TrimPrefix(k, pfx)), st})
			return leads[len(leads)-1].st.decode(v)
		}); err != nil {
			return err
		}
		for _, l := range leads {
			sk := key(pfxLead, tenant, survivor, l.ad)
			var s leadState
			if _, err := txn.get(sk, s.decode); err != nil {
				return err
			}
			if l.st.touches > 0 { // not merged yet
				s.touch(l.st)
				l.st.touches, l.st.ids, l.st.mergedInto, l.st.rev = 0, nil, survivor, l.st.rev+1
				if err := txn.set(sk, s.encode()); err != nil {
					return err
				}
				if err := txn.set(key(pfxLead, tenant, loser, l.ad), l.st.encode()); err != nil {
					return err
				}
			}
			rows = append(rows, s.row(tenant, l.ad, who), l.st.row(tenant, l.ad, gone))
		}
		return mergeTouches(txn, tenant, loser, survivor)
	})
	if err != nil {
		return nil, fmt.Errorf("report: merge %s into %s: %w", loser, survivor, err)
	}
	return rows, nil
}

// mergeTouches gives the survivor the loser's recent touches, so its traffic inside the window
// keeps the loser's ad (contract 5: leads and attribution stay attached to the person).
func mergeTouches(txn tx, tenant, loser, survivor string) error {
	lt, err := loadTouches(txn, tenant, loser)
	if err != nil || len(lt) == 0 {
		return err
	}
	st, err := loadTouches(txn, tenant, survivor)
	if err != nil {
		return err
	}
	for _, t := range lt {
		st, _ = st.add(t)
	}
	if err := st.save(txn, tenant, survivor); err != nil {
		return err
	}
	return txn.delete(key(pfxTouch, tenant, loser))
}
