package health

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestDownKeepsFirstFailureUntilUp(t *testing.T) {
	var d Deps
	d.SetDown(ClickHouse, errors.New("refused"))
	first := d.Down()[0].Since
	d.SetDown(ClickHouse, errors.New("reset"))
	d.SetDown(Kafka, errors.New("broker not available"))
	got := d.Down()
	if len(got) != 2 || got[0].Dependency != ClickHouse || got[0].Since != first || got[0].Error != "reset" || got[1].Dependency != Kafka {
		t.Fatalf("down: %+v", got)
	}
	d.SetUp(ClickHouse)
	if got := d.Down(); len(got) != 1 || got[0].Dependency != Kafka {
		t.Fatalf("after clickhouse recovered: %+v", got)
	}
	var none *Deps
	none.SetDown(Kafka, nil) // a nil tracker is allowed
	if none.Down() != nil {
		t.Fatal("nil tracker reports outages")
	}
}

// A probe's success clears only its own report: the dependency stays down while another
// component still reports it down, and the outage keeps its earliest start.
func TestReporterClearsOnlyItsOwnFailures(t *testing.T) {
	var d Deps
	probe := d.Reporter("probe")
	d.SetDown(Kafka, errors.New("dead letters refused"))
	since := d.Down()[0].Since
	probe.SetDown(Kafka, errors.New("list offsets: timeout"))
	probe.SetUp(Kafka)
	if got := d.Down(); len(got) != 1 || got[0].Dependency != Kafka || got[0].Since != since || got[0].Error != "dead letters refused" {
		t.Fatalf("after the probe recovered: %+v", got)
	}
	probe.SetDown(Kafka, errors.New("list offsets: timeout"))
	d.SetUp(Kafka)
	if got := d.Down(); len(got) != 1 || got[0].Error != "list offsets: timeout" {
		t.Fatalf("after the writes recovered, the probe still fails: %+v", got)
	}
	probe.SetUp(Kafka)
	if got := d.Down(); len(got) != 0 {
		t.Fatalf("all recovered: %+v", got)
	}
	var none *Deps
	none.Reporter("probe").SetDown(Kafka, nil) // nil-safe too
}

// The end of an outage is logged once, when the last component that saw it recovers, with
// the length from the first failure.
func TestRecoveryLoggedOnceWithItsLength(t *testing.T) {
	var buf bytes.Buffer
	d := Deps{Log: slog.New(slog.NewJSONHandler(&buf, nil))}
	probe := d.Reporter("probe")
	d.SetDown(Kafka, errors.New("fetch: connection refused"))
	probe.SetDown(Kafka, errors.New("list offsets: connection refused"))
	time.Sleep(20 * time.Millisecond)
	probe.SetUp(Kafka)
	if buf.Len() != 0 {
		t.Fatalf("logged while another component still saw kafka down: %s", buf.String())
	}
	d.SetUp(Kafka)
	d.SetUp(Kafka) // a second success is no second recovery
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], `"msg":"recovered","dependency":"kafka","outage":"`) {
		t.Fatalf("want one recovery line, got: %s", buf.String())
	}
	var line struct{ Outage string }
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatal(err)
	}
	if d, err := time.ParseDuration(line.Outage); err != nil || d < 20*time.Millisecond {
		t.Errorf("outage %q, want at least 20ms", line.Outage)
	}
}
