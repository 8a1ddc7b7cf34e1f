package pipeline

import (
	"context"
	"log/slog"
)

// Reason is why a record is dead-lettered, from a small fixed set: the reason label of
// wapipe_dead_letters_total must stay bounded, so the free text (DeadLetter.Reason)
// goes to the dead letter's headers, never to a label (nor to the log: it quotes the body).
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

// deadLettered counts and logs a dead letter once it is durable: at warn, with the
// record's coordinates, stage and bounded reason, never its body. The free-text detail
// stays out of the log too: it quotes values of the body (a sender's id, a phone number),
// and `wapipe dlq list` shows it beside the letter, where the body already is.
func (r *Runner) deadLettered(u *Unit) {
	dl := u.DeadLetter
	r.metrics.DeadLetter.Inc()
	r.metrics.DeadLetters.WithLabelValues(dl.Stage, string(dl.Why)).Inc()
	r.cfg.Logger.LogAttrs(context.Background(), slog.LevelWarn, "dead letter", slog.String("source", u.Rec.Source()),
		slog.String("stage", dl.Stage), slog.String("reason", string(dl.Why)), slog.Int("body_bytes", len(u.Rec.Value)))
}
