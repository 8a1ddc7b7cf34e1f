package unit

// Reason is why a record is dead-lettered, from a small fixed set: the reason label of
// wapipe_dead_letters_total must stay bounded, so the free text (DeadLetter.Reason) goes
// to the dead letter's headers only: never to a label, nor to the log (it quotes the body).
type Reason string

// The reasons a record can be dead-lettered for.
const (
	ReasonNotUTF8      Reason = "not_utf8"       // the body is not UTF-8
	ReasonNotJSON      Reason = "not_json"       // the body is not JSON
	ReasonNotWhatsApp  Reason = "not_whatsapp"   // JSON, but not a WhatsApp webhook
	ReasonBodyTooLarge Reason = "body_too_large" // over --max-body-bytes, not read
	ReasonInvalidEvent Reason = "invalid_event"  // some events of the body are invalid
	ReasonBadSnapshot  Reason = "bad_snapshot"   // an identity-topic record that cannot be read
	ReasonRowRejected  Reason = "row_rejected"   // ClickHouse refused a row of the record
	ReasonPanic        Reason = "panic"          // a stage panicked on the record
	ReasonOther        Reason = "other"          // anything else (a Reason not listed here)
)

var reasons = map[Reason]bool{ReasonNotUTF8: true, ReasonNotJSON: true, ReasonNotWhatsApp: true,
	ReasonBodyTooLarge: true, ReasonInvalidEvent: true, ReasonBadSnapshot: true, ReasonRowRejected: true,
	ReasonPanic: true, ReasonOther: true}

// bounded returns why when it is one of the listed reasons, and ReasonOther otherwise.
func bounded(why Reason) Reason {
	if reasons[why] {
		return why
	}
	return ReasonOther
}
