package decode

import (
	"strconv"

	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/schemas"
)

// builder turns decoded wire values into events, one body at a time. It is not
// shared between goroutines: Decode makes one per call, on the stack.
type builder struct {
	d       *Decoder
	events  []model.Event
	invalid []model.Invalid

	// Where we are in the body, for positions in reasons.
	entry, change int
	// What every event of the current change shares.
	waba, tenant, phoneNumberID string
	contacts                    []schemas.Contact
	lone                        bool // the change holds a single event element
	// changeErr, when set, makes every event of the current change invalid
	// (no WABA id, no phone_number_id).
	changeErr string
	// rejected holds what the slow path could not decode in the current change;
	// empty on the fast path.
	rejected rejects
}

// rejects lists, per array of one change, the elements the slow path could not
// decode, as reasons by index ("" = decoded). Their ids are kept in the zero
// element left at that index, so that the reason names them.
type rejects struct {
	messages, statuses, calls, updates []string
}

func (r *rejects) reason(list []string, i int) string {
	if i >= len(list) {
		return ""
	}
	return list[i]
}

// webhook builds the events of a fully decoded body.
func (b *builder) webhook(w *schemas.Webhook) {
	n := 0
	for i := range w.Entry {
		for j := range w.Entry[i].Changes {
			v := &w.Entry[i].Changes[j].Value
			n += len(v.Messages) + len(v.Statuses) + len(v.Calls) + len(v.UserIDUpdates)
		}
	}
	b.events = make([]model.Event, 0, n)
	for i := range w.Entry {
		e := &w.Entry[i]
		b.startEntry(i, e.ID)
		for j := range e.Changes {
			b.buildChange(j, e.Changes[j].Field, &e.Changes[j].Value, nil)
		}
	}
}

func (b *builder) startEntry(i int, waba string) {
	b.entry, b.waba, b.tenant = i, waba, waba
	if waba != "" && b.d.cfg.TenantOf != nil {
		if t := b.d.cfg.TenantOf(waba); t != "" {
			b.tenant = t
		}
	}
}

// buildChange emits the events of one change, in the order messages, statuses,
// calls, user_id_update (a struct decoder does not keep the key order of value).
func (b *builder) buildChange(j int, field string, v *schemas.Value, rej *rejects) {
	b.change, b.rejected = j, rejects{}
	if rej != nil {
		b.rejected = *rej
	}
	b.phoneNumberID, b.contacts = v.Metadata.PhoneNumberID, v.Contacts
	b.lone = len(v.Messages)+len(v.Statuses)+len(v.Calls)+len(v.UserIDUpdates) == 1
	b.changeErr = ""
	switch {
	case b.waba == "":
		b.changeErr = "missing entry id (the WABA id)"
	case b.phoneNumberID == "" && field != schemas.FieldUserIDUpdate:
		// An identity change writes no report row and is scoped to the tenant,
		// so only the user_id_update field may come without a phone number id.
		b.changeErr = "missing value.metadata.phone_number_id"
	}
	switch field {
	case schemas.FieldMessages:
		for i := range v.Messages {
			b.message(i, &v.Messages[i])
		}
		for i := range v.Statuses {
			b.status(i, &v.Statuses[i])
		}
	case schemas.FieldCalls:
		for i := range v.Calls {
			b.call(i, &v.Calls[i])
		}
		for i := range v.Statuses {
			b.callStatus(i, &v.Statuses[i])
		}
	case schemas.FieldUserIDUpdate:
		for i := range v.UserIDUpdates {
			b.userIDUpdate(i, &v.UserIDUpdates[i])
		}
	default:
		b.d.unknown(UnknownField, field)
	}
}

func (b *builder) contactOf(bsuid, phone string) *schemas.Contact {
	return matchContact(b.contacts, bsuid, phone, b.lone)
}

// open appends a new event sharing the change's envelope and returns it with a
// check for its validity; close keeps it or turns it into an Invalid. Events are
// filled in place to avoid copying the large struct twice. rejected is the slow
// path's reason for an element it could not decode.
func (b *builder) open(kind model.Kind, id, rejected string) (*model.Event, check) {
	ev, c := b.openUnnamed(kind, rejected)
	ev.ID = id
	if id == "" {
		c.fail("missing id")
	}
	return ev, c
}

// openUnnamed is open for elements that have no id of their own (user_id_update).
func (b *builder) openUnnamed(kind model.Kind, rejected string) (*model.Event, check) {
	b.events = append(b.events, model.Event{
		Kind: kind, Tenant: b.tenant, WABA: b.waba, PhoneNumberID: b.phoneNumberID,
	})
	c := check{reason: rejected}
	c.fail(b.changeErr)
	return &b.events[len(b.events)-1], c
}

// close keeps the last opened event if c found nothing wrong, and otherwise
// replaces it with an Invalid naming its id, or its position when it has none.
func (b *builder) close(c *check, list string, i int) {
	if c.reason == "" {
		return
	}
	ev := &b.events[len(b.events)-1]
	b.invalid = append(b.invalid, model.Invalid{Where: b.where(list, i, ev.ID), Reason: c.reason})
	b.events = b.events[:len(b.events)-1]
}

func (b *builder) where(list string, i int, id string) string {
	if id != "" {
		return id
	}
	return b.position() + "." + list + "[" + strconv.Itoa(i) + "]"
}

func (b *builder) position() string {
	return "entry[" + strconv.Itoa(b.entry) + "].changes[" + strconv.Itoa(b.change) + "]"
}
