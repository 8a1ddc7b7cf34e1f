package report

import (
	"math"
	"strings"

	"github.com/wapipe/wapipe/model"
)

// callStatuses lists call statuses with their rank (contract 6): RINGING < ACCEPTED < CONNECTED <
// the terminal three. The index is the status's bit in callState.seen.
var callStatuses = [...]struct {
	name string
	rank uint8
}{{"RINGING", 1}, {"ACCEPTED", 2}, {"CONNECTED", 3}, {"COMPLETED", 4}, {"FAILED", 4}, {"REJECTED", 4}}

// callStatus returns the status's rank and bit; rank 0 for a status the contract does not know.
func callStatus(ev *model.Event) (name string, rank uint8, bit uint64) {
	name = strings.ToUpper(ev.Status) // M6 shows title case; compare without case
	if name == "" && ev.CallEvent == "connect" {
		name = "CONNECTED"
	}
	for i, s := range callStatuses {
		if s.name == name {
			return name, s.rank, 1 << i
		}
	}
	return name, 0, 0
}

// call applies one call event: connect, terminate, or a business-initiated call status.
func (b *Builder) call(txn tx, ev *model.Event, who model.Who) ([]model.Row, error) {
	name, rank, bit := callStatus(ev)
	var c callState
	st, err := txn.open(windowCall, ev.Tenant, ev.ID, ev.At, c.decode)
	if err != nil {
		return nil, err
	}
	k, found := st.key, st.found
	if found && bit != 0 && c.seen&bit != 0 {
		return []model.Row{c.row(ev, who)}, nil // a replay: the current row again, same version
	}
	old := c
	if !found {
		c.eventAt, c.firstAt = ev.At, ev.At // the first event creates the row
	}
	c.contact = who.ContactID
	c.seen |= bit
	if c.direction == "" {
		c.direction = ev.Direction
	}
	if rank > c.rank { // a late connect never lowers a terminated call; equal ranks keep the first
		c.rank, c.status = rank, name
	}
	if ev.StartTime > 0 && c.startedAt == 0 {
		c.startedAt = ev.StartTime
	}
	if ev.EndTime > 0 && c.endedAt == 0 {
		c.endedAt = ev.EndTime
	}
	c.duration = max(c.duration, ev.Duration)
	if c.duration == 0 && c.startedAt > 0 && c.endedAt > c.startedAt {
		c.duration = uint32(min(c.endedAt-c.startedAt, math.MaxUint32)) // a terminate without duration: its times tell it
	}
	c.eventAt = max(c.eventAt, ev.At) // the latest event applied, by webhook time
	visible := !found || c.direction != old.direction || c.status != old.status ||
		c.startedAt != old.startedAt || c.endedAt != old.endedAt || c.duration != old.duration ||
		c.eventAt != old.eventAt
	if visible && c.seq < 255 {
		c.seq++
	}
	if err := txn.set(k, c.encode()); err != nil { // seen may change even when nothing visible does
		return nil, err
	}
	if !visible {
		return nil, nil
	}
	return []model.Row{c.row(ev, who)}, nil
}

// row: version is rank, then event_at, then the emission sequence, so a change that moves neither
// (a late start_time) still replaces the previous row, and the best-ranked row wins across workers.
func (c *callState) row(ev *model.Event, who model.Who) *model.VoiceRow {
	r := &model.VoiceRow{
		Tenant: ev.Tenant, WABA: ev.WABA, PhoneNumberID: ev.PhoneNumberID, CallID: ev.ID,
		Direction: c.direction, Status: c.status, DurationSeconds: c.duration, EventAt: c.eventAt,
		Who: who, Version: chatVersion(c.rank, c.eventAt, c.seq), FirstEventAt: c.firstAt,
	}
	if c.startedAt != 0 {
		v := c.startedAt
		r.StartedAt = &v
	}
	if c.endedAt != 0 {
		v := c.endedAt
		r.EndedAt = &v
	}
	return r
}
