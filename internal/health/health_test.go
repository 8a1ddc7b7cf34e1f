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
