package pipeline

import (
	"context"
	"log/slog"
	"strconv"
)

// Reason is why a record is dead-lettered, from a small fixed set: the reason label of
// wapipe_dead_letters_total must stay bounded, so the free text (DeadLetter.Detail)
// goes to the dead letter's headers and the log, never to a label.
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

// maxLoggedDetail caps the reason text in a log line: an invalid body can list many events.
const maxLoggedDetail = 512

// deadLettered counts and logs a dead letter once it is durable: at warn, with the
// record's coordinates, stage and reason, never its body.
func (r *Runner) deadLettered(u *Unit) {
	dl := u.DeadLetter
	r.metrics.DeadLetter.Inc()
	r.metrics.DeadLetters.WithLabelValues(dl.Stage, string(dl.Why)).Inc()
	detail := dl.Reason
	if len(detail) > maxLoggedDetail {
		detail = detail[:maxLoggedDetail] + "... (" + strconv.Itoa(len(dl.Reason)) + " bytes)"
	}
	r.cfg.Logger.LogAttrs(context.Background(), slog.LevelWarn, "dead letter", slog.String("source", u.Rec.Source()),
		slog.String("stage", dl.Stage), slog.String("reason", string(dl.Why)), slog.String("detail", detail),
		slog.Int("body_bytes", len(u.Rec.Value)))
}
