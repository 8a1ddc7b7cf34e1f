package health

import (
	"errors"
	"testing"
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
