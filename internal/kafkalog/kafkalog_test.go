package kafkalog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// kafka-go's error messages reach the log at warn; its chatter only when debug is on.
func TestErrorsAtWarnDebugOnlyWhenEnabled(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	Errors(log, "reader").Printf("error initializing the kafka reader for partition %d of %s: %s", 3, "in", "connection refused")
	if got := buf.String(); !strings.Contains(got, `"level":"WARN"`) || !strings.Contains(got, "partition 3 of in: connection refused") ||
		!strings.Contains(got, `"component":"reader"`) {
		t.Errorf("error line: %s", got)
	}
	if Debug(log, "reader") != nil {
		t.Error("a debug logger while debug is off")
	}
	buf.Reset()
	debug := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	Debug(debug, "group").Printf("joined group %s", "g")
	if got := buf.String(); !strings.Contains(got, `"level":"DEBUG"`) || !strings.Contains(got, "joined group g") {
		t.Errorf("debug line: %s", got)
	}
}
