// Package kafkalog hands kafka-go's two loggers to slog, so that what kafka-go knows about
// a failing broker (a reader that cannot reach a leader, a group that cannot join, an
// offset out of range) reaches the worker's log instead of being dropped.
//
// It promises: Errors writes every kafka-go error message at warn; Debug writes kafka-go's
// chatter at debug and is nil (kafka-go then formats nothing) unless debug is enabled.
package kafkalog

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/segmentio/kafka-go"
)

// Errors is a kafka-go ErrorLogger writing to log at warn, tagged with component.
func Errors(log *slog.Logger, component string) kafka.Logger {
	return kafka.LoggerFunc(func(msg string, args ...any) {
		log.Warn("kafka-go: "+fmt.Sprintf(msg, args...), "component", component)
	})
}

// Debug is a kafka-go Logger writing to log at debug, or nil when log drops debug.
func Debug(log *slog.Logger, component string) kafka.Logger {
	if !log.Enabled(context.Background(), slog.LevelDebug) {
		return nil
	}
	return kafka.LoggerFunc(func(msg string, args ...any) {
		log.Debug("kafka-go: "+fmt.Sprintf(msg, args...), "component", component)
	})
}

// Writer sets w's loggers and returns w.
func Writer(w *kafka.Writer, log *slog.Logger, component string) *kafka.Writer {
	if log != nil {
		w.Logger, w.ErrorLogger = Debug(log, component), Errors(log, component)
	}
	return w
}
