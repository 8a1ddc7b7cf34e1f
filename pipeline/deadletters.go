package pipeline

import (
	"context"
	"log/slog"
	"strconv"

	"github.com/wapipe/wapipe/unit"
)

// maxLoggedDetail caps the reason text in a log line: an invalid body can list many events.
const maxLoggedDetail = 512

// deadLettered counts and logs a dead letter once it is durable: at warn, with the
// record's coordinates, stage and reason, never its body.
func (r *Runner) deadLettered(u *unit.Unit) {
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
