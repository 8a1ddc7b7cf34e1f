package decode

import (
	"encoding/json"
	"strconv"

	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/schemas"
)

// The slow path decodes a body level by level into raw elements, then each
// element on its own, so that one wrongly typed field rejects only the element
// that holds it. It runs only when the fast decoder failed on the body, and uses
// encoding/json because its errors name the field.

type rawBody struct {
	Object json.RawMessage   `json:"object"`
	Entry  []json.RawMessage `json:"entry"`
}

type rawEntry struct {
	ID      string            `json:"id"`
	Changes []json.RawMessage `json:"changes"`
}

type rawChange struct {
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
}

type rawValue struct {
	Metadata      json.RawMessage   `json:"metadata"`
	Contacts      []json.RawMessage `json:"contacts"`
	Messages      []json.RawMessage `json:"messages"`
	Statuses      []json.RawMessage `json:"statuses"`
	Calls         []json.RawMessage `json:"calls"`
	UserIDUpdates []json.RawMessage `json:"user_id_update"`
}

func (b *builder) slow(text string) error {
	buf := []byte(text)
	if !json.Valid(buf) {
		var v any
		return &BodyError{KindNotJSON, "body is not JSON: " + jsonReason(json.Unmarshal(buf, &v))}
	}
	var body rawBody
	if err := json.Unmarshal(buf, &body); err != nil {
		return &BodyError{KindNotWhatsApp, "not a WhatsApp webhook: " + jsonReason(err)}
	}
	var object string
	if json.Unmarshal(body.Object, &object) != nil {
		return &BodyError{KindNotWhatsApp, "not a WhatsApp webhook: object=" + quote(string(body.Object))}
	}
	if err := envelope(object, len(body.Entry)); err != nil {
		return err
	}
	for i, raw := range body.Entry {
		var e rawEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			b.reject("entry["+strconv.Itoa(i)+"]", err)
			continue
		}
		b.startEntry(i, e.ID)
		for j, rawCh := range e.Changes {
			b.slowChange(j, rawCh)
		}
	}
	return nil
}

func (b *builder) slowChange(j int, raw json.RawMessage) {
	b.change = j
	var ch rawChange
	if err := json.Unmarshal(raw, &ch); err != nil {
		b.reject(b.position(), err)
		return
	}
	switch ch.Field {
	case schemas.FieldMessages, schemas.FieldCalls, schemas.FieldUserIDUpdate:
	default:
		b.d.unknown(UnknownField, ch.Field)
		return
	}
	var rv rawValue
	if len(ch.Value) > 0 { // no value at all reads as an empty one, as on the fast path
		if err := json.Unmarshal(ch.Value, &rv); err != nil {
			b.reject(b.position()+".value", err)
			return
		}
	}
	var v schemas.Value
	rej := &rejects{}
	if len(rv.Metadata) > 0 {
		if err := json.Unmarshal(rv.Metadata, &v.Metadata); err != nil {
			b.reject(b.position()+".value.metadata", err)
		}
	}
	v.Contacts = make([]schemas.Contact, len(rv.Contacts))
	for k, r := range rv.Contacts {
		if err := json.Unmarshal(r, &v.Contacts[k]); err != nil {
			v.Contacts[k] = schemas.Contact{}
			b.reject(b.position()+".value.contacts["+strconv.Itoa(k)+"]", err)
		}
	}
	v.Messages, rej.messages = decodeEach[schemas.Message](rv.Messages, func(m *schemas.Message, id string) { m.ID = id })
	v.Statuses, rej.statuses = decodeEach[schemas.Status](rv.Statuses, func(s *schemas.Status, id string) { s.ID = id })
	v.Calls, rej.calls = decodeEach[schemas.Call](rv.Calls, func(c *schemas.Call, id string) { c.ID = id })
	v.UserIDUpdates, rej.updates = decodeEach[schemas.UserIDUpdate](rv.UserIDUpdates, func(*schemas.UserIDUpdate, string) {})
	b.buildChange(j, ch.Field, &v, rej)
}

// decodeEach decodes every raw element into a T. An element that fails is left
// zero but for its id (setID), so that its reason can still name it.
func decodeEach[T any](raws []json.RawMessage, setID func(*T, string)) ([]T, []string) {
	if len(raws) == 0 {
		return nil, nil
	}
	out, reasons := make([]T, len(raws)), make([]string, len(raws))
	for k, r := range raws {
		if err := json.Unmarshal(r, &out[k]); err != nil {
			var zero T
			out[k] = zero
			var named struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(r, &named) // best effort: the id may be the wrong type too
			setID(&out[k], named.ID)
			reasons[k] = jsonReason(err)
		}
	}
	return out, reasons
}

// reject reports an element that is not an event (an entry, a change, a contact).
func (b *builder) reject(where string, err error) {
	b.invalid = append(b.invalid, model.Invalid{Where: where, Reason: jsonReason(err)})
}
