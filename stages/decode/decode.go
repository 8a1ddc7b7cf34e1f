// Package decode turns one WhatsApp webhook body into normalized events.
//
// It promises:
//   - every event a body carries for the reports comes out as a model.Event
//     (inbound message, outbound status, call event, identity change), in body
//     order, with tenant, WABA, phone number id, event time, dedupe key and the
//     identity facts the body states about the user, BSUID first;
//   - an event that fails validation (no id, a bad time, a malformed BSUID or
//     phone, no sender) is returned as a model.Invalid naming its id or position
//     and why, and never stops its valid neighbours;
//   - a body that is not a WhatsApp webhook at all is an error with a reason;
//   - change fields and values it does not know are skipped and counted, never
//     guessed at.
//
// Decoding uses bytedance/sonic into the schemas types (the fastest measured
// here, see bench/RESULTS.md). When sonic fails anywhere in the body (a wrongly
// typed field, or not JSON at all), the body is decoded again element by element
// with encoding/json, so that only the elements that are wrong are reported and
// their reasons name the field. No goroutines, no I/O: the pipeline owns concurrency.
package decode

import (
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"

	"github.com/bytedance/sonic"
	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/schemas"
)

// Config configures a Decoder. The zero Config is valid.
type Config struct {
	// TenantOf maps a WABA id to its tenant (the business portfolio). Nil, or
	// an empty result, makes the WABA id the tenant. It is called once per
	// entry and must be safe for concurrent use.
	TenantOf func(waba string) string
	// OnUnknown, when set, is told of every value the decoder does not know:
	// what is one of the Unknown* constants, value is the value as received.
	// Use what, not value, as a metric label: values come from the outside.
	// Called synchronously; must be cheap and safe for concurrent use.
	OnUnknown func(what, value string)
}

// What OnUnknown reports. Unknown message types are kept as inbound events (a
// user's message is a chat message whatever its type); everything else is skipped.
const (
	UnknownField       = "field"        // a change field other than messages, calls, user_id_update
	UnknownStatus      = "status"       // a message status other than sent, delivered, read, played, failed
	UnknownCallEvent   = "call_event"   // a calls[] event other than connect, terminate
	UnknownCallStatus  = "call_status"  // a call status that is not RINGING, ACCEPTED, REJECTED, COMPLETED, FAILED
	UnknownSystemType  = "system_type"  // a system message that changes no id (customer_identity_changed, ...)
	UnknownMessageType = "message_type" // an inbound type not in Meta's list (kept)
)

// Stats are the Decoder's counters since New.
type Stats struct {
	Bodies   uint64 // bodies decoded
	Rejected uint64 // bodies that were not a usable webhook (Decode returned an error)
	Slow     uint64 // bodies that needed the element-by-element path
	Events   uint64 // valid events returned
	Invalid  uint64 // invalid events and undecodable elements reported
	Unknown  uint64 // unknown values skipped or kept, as told to OnUnknown
}

// Decoder decodes webhook bodies. It is safe for concurrent use.
type Decoder struct {
	cfg   Config
	stats struct{ bodies, rejected, slow, events, invalid, unknown atomic.Uint64 }
}

// New returns a Decoder. The first one compiles sonic's decoder for the wire
// types, so that the first body does not pay for it.
func New(cfg Config) *Decoder {
	// An error here only means sonic compiles on the first Decode instead.
	pretouch.Do(func() { _ = sonic.Pretouch(reflect.TypeFor[schemas.Webhook]()) })
	return &Decoder{cfg: cfg}
}

var pretouch sync.Once

// fast decodes into the schemas types. Strings are not copied out of the
// buffer, and UTF-8 is not validated: strings are stored as received. Raw
// control characters in strings, which JSON forbids, are refused (fuzzing found
// sonic accepts them otherwise). Sonic still skips the values of unknown fields
// without checking their escapes: such a body decodes, as its ignored parts
// change no event. Keys match case-insensitively, as in the
// encoding/json slow path, so that both paths read a body the same way;
// case-sensitive matching measured no faster.
var fast = sonic.Config{ValidateString: true}.Froze()

// Decode parses one webhook body. err != nil means the whole body is unusable
// (not JSON, not a WhatsApp webhook, no entries). Otherwise events are the valid
// events in body order and invalid lists each rejected event or element.
//
// Decode copies body once and the events' strings share that copy, so the
// caller may reuse body afterwards; the copy lives as long as any of its events.
// Escaped strings in the body are the exception: they are decoded into copies.
func (d *Decoder) Decode(body []byte) (events []model.Event, invalid []model.Invalid, err error) {
	return d.decode(string(body))
}

// DecodeOwned is Decode without the copy: the events' strings share body itself,
// so body must never change afterwards. A Kafka record's value qualifies: the fetch
// allocates it for that record alone, and the worker only reads it (dead letters
// quote it). It saves a copy of every body, about 4% of the bytes the worker allocates.
func (d *Decoder) DecodeOwned(body []byte) (events []model.Event, invalid []model.Invalid, err error) {
	return d.decode(unsafe.String(unsafe.SliceData(body), len(body)))
}

func (d *Decoder) decode(buf string) (events []model.Event, invalid []model.Invalid, err error) {
	d.stats.bodies.Add(1)
	// JSON must be UTF-8 (RFC 8259), and a report column holding broken text is worse
	// than a dead letter that says where it broke. utf8.ValidString runs at memory speed
	// on the ASCII that webhooks mostly are.
	if !utf8.ValidString(buf) {
		d.stats.rejected.Add(1)
		return nil, nil, &BodyError{KindNotUTF8, fmt.Sprintf("body is not valid UTF-8 (first bad byte at offset %d)", badUTF8(buf))}
	}
	b := builder{d: d}
	var w schemas.Webhook
	if fast.UnmarshalFromString(buf, &w) == nil {
		err = envelope(w.Object, len(w.Entry))
		if err == nil {
			b.webhook(&w)
		}
	} else {
		d.stats.slow.Add(1)
		err = b.slow(buf)
	}
	if err != nil {
		d.stats.rejected.Add(1)
		return nil, nil, err
	}
	if len(b.events) == 0 {
		b.events = nil // as the slow path leaves it, so callers see one shape
	}
	d.stats.events.Add(uint64(len(b.events)))
	if len(b.invalid) > 0 {
		d.stats.invalid.Add(uint64(len(b.invalid)))
	}
	return b.events, b.invalid, nil
}

// badUTF8 returns the offset of the first byte that is not valid UTF-8.
func badUTF8(b string) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRuneInString(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// Stats returns the counters.
func (d *Decoder) Stats() Stats {
	s := &d.stats
	return Stats{
		Bodies: s.bodies.Load(), Rejected: s.rejected.Load(), Slow: s.slow.Load(),
		Events: s.events.Load(), Invalid: s.invalid.Load(), Unknown: s.unknown.Load(),
	}
}

func (d *Decoder) unknown(what, value string) {
	d.stats.unknown.Add(1)
	if d.cfg.OnUnknown != nil {
		d.cfg.OnUnknown(what, value)
	}
}

// BodyError is why a whole body was refused: Kind is one of the Kind constants (a
// bounded label for metrics), Reason the text that names what is wrong.
type BodyError struct {
	Kind   string
	Reason string
}

// The kinds of BodyError.
const (
	KindNotUTF8     = "not_utf8"
	KindNotJSON     = "not_json"
	KindNotWhatsApp = "not_whatsapp"
)

func (e *BodyError) Error() string { return e.Reason }

func envelope(object string, entries int) error {
	if object != schemas.Object {
		return &BodyError{KindNotWhatsApp, "not a WhatsApp webhook: object=" + quote(object)}
	}
	if entries == 0 {
		return &BodyError{KindNotWhatsApp, "not a WhatsApp webhook: no entry"}
	}
	return nil
}
