package pipeline

import (
	"context"
	"log/slog"

	"github.com/wapipe/wapipe/unit"
)

// deadLettered counts and logs a dead letter once it is durable: at warn, with the
// record's coordinates, stage and bounded reason, never its body. The free-text detail
// stays out of the log too: it quotes values of the body (a sender's id, a phone number),
// and `wapipe dlq list` shows it beside the letter, where the body already is.
func (r *Runner) deadLettered(u *unit.Unit) {
	dl := u.DeadLetter
	r.metrics.DeadLetter.Inc()
	r.metrics.DeadLetters.WithLabelValues(dl.Stage, string(dl.Why)).Inc()
	r.cfg.Logger.LogAttrs(context.Background(), slog.LevelWarn, "dead letter", slog.String("source", u.Rec.Source()),
		slog.String("stage", dl.Stage), slog.String("reason", string(dl.Why)), slog.Int("body_bytes", len(u.Rec.Value)))
}
