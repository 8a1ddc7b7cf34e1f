package report

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// State values are a format byte followed by varints and length-prefixed strings: a few dozen
// bytes per message, no reflection, and the format byte lets a later layout read old values.
const formatV1 = 1

// ErrCorrupt reports state or a snapshot that cannot be decoded.
var ErrCorrupt = errors.New("corrupt report state")

type enc []byte

func (e *enc) u(v uint64) { *e = binary.AppendUvarint(*e, v) }
func (e *enc) i(v int64)  { *e = binary.AppendVarint(*e, v) }
func (e *enc) s(v string) { e.u(uint64(len(v))); *e = append(*e, v...) }

type dec struct {
	b   []byte
	err error
}

func newDec(b []byte) dec {
	if len(b) == 0 || b[0] != formatV1 {
		return dec{err: fmt.Errorf("%w: format %v", ErrCorrupt, b[:min(len(b), 1)])}
	}
	return dec{b: b[1:]}
}

func (d *dec) u() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = ErrCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) i() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = ErrCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

// optionalI reads a varint that a later version appended to a layout, or returns def when the value
// ends before it (written by an earlier version).
func (d *dec) optionalI(def int64) int64 {
	if d.err == nil && len(d.b) == 0 {
		return def
	}
	return d.i()
}

// s copies: Badger's value slice is only valid inside Item.Value.
func (d *dec) s() string {
	n := d.u()
	if d.err != nil || uint64(len(d.b)) < n {
		d.err = ErrCorrupt
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// msgState flags.
const (
	fInbound = 1 << iota
	fTouched // this inbound message's referral was counted on its lead
	fSent    // sentAt is the sent status's timestamp, not just the earliest seen
	fErr
	fUsage
)

// msgState is what one message (either direction) needs to rebuild its rows.
type msgState struct {
	contact          string
	flags            uint64
	seen             uint64 // bit 1<<rank per status applied, to tell a replay from news
	rank, seq        uint8  // seq counts emitted chat rows (version tiebreak)
	sentAt, statusAt int64
	errCode          int32
	ad, clid         string // attribution fixed at the first event of the message
	// Usage, when fUsage.
	billedAt                    int64
	pModel, pType, category     string
	billable                    uint8 // 0 absent, 1 false, 2 true
	convID, convOrigin, usageAd string
	// firstAt is the event time of the first status of the message this worker saw: the rows'
	// first_event_at, which never changes (model.FirstEventColumn).
	firstAt int64
}

func (m *msgState) encode() []byte {
	e := make(enc, 0, 64+len(m.contact)+len(m.ad)+len(m.clid))
	e = append(e, formatV1)
	e.u(m.flags)
	e.s(m.contact)
	e.u(m.seen)
	e.u(uint64(m.rank))
	e.u(uint64(m.seq))
	e.i(m.sentAt)
	e.i(m.statusAt)
	e.i(int64(m.errCode))
	e.s(m.ad)
	e.s(m.clid)
	if m.flags&fUsage != 0 {
		e.i(m.billedAt)
		e.s(m.pModel)
		e.s(m.pType)
		e.s(m.category)
		e.u(uint64(m.billable))
		e.s(m.convID)
		e.s(m.convOrigin)
		e.s(m.usageAd)
	}
	e.i(m.firstAt) // last, so state written before it existed still decodes (optionalI)
	return e
}

func (m *msgState) decode(b []byte) error {
	d := newDec(b)
	m.flags = d.u()
	m.contact = d.s()
	m.seen = d.u()
	m.rank, m.seq = uint8(d.u()), uint8(d.u())
	m.sentAt, m.statusAt, m.errCode = d.i(), d.i(), int32(d.i())
	m.ad, m.clid = d.s(), d.s()
	if m.flags&fUsage != 0 {
		m.billedAt = d.i()
		m.pModel, m.pType, m.category = d.s(), d.s(), d.s()
		m.billable = uint8(d.u())
		m.convID, m.convOrigin, m.usageAd = d.s(), d.s(), d.s()
	}
	// State from before first_event_at: the earliest time it kept stands in, as the partition migration
	// (sinks/clickhouse) gives the rows already written their sent_at.
	m.firstAt = d.optionalI(m.sentAt)
	return d.err
}

// callState is what one call needs to rebuild its voice row.
type callState struct {
	contact, direction, status string
	rank, seq                  uint8
	seen                       uint64 // bit per call status applied
	startedAt, endedAt         int64  // 0 = not known
	duration                   uint32
	eventAt                    int64
	firstAt                    int64 // the first event's time: first_event_at, fixed (model.FirstEventColumn)
}

func (c *callState) encode() []byte {
	e := make(enc, 0, 48+len(c.contact)+len(c.direction))
	e = append(e, formatV1)
	e.s(c.contact)
	e.s(c.direction)
	e.s(c.status)
	e.u(uint64(c.rank))
	e.u(uint64(c.seq))
	e.u(c.seen)
	e.i(c.startedAt)
	e.i(c.endedAt)
	e.u(uint64(c.duration))
	e.i(c.eventAt)
	e.i(c.firstAt)
	return e
}

func (c *callState) decode(b []byte) error {
	d := newDec(b)
	c.contact, c.direction, c.status = d.s(), d.s(), d.s()
	c.rank, c.seq, c.seen = uint8(d.u()), uint8(d.u()), d.u()
	c.startedAt, c.endedAt = d.i(), d.i()
	c.duration = uint32(d.u())
	c.eventAt = d.i()
	c.firstAt = d.optionalI(c.eventAt) // the partition migration gives old rows their event_at
	return d.err
}
