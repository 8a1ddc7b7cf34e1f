package pipeline

import (
	"reflect"
	"testing"
	"time"
)

// The defaults are written once, in Defaults: WithDefaults fills every zero field from it
// and keeps what was given.
func TestWithDefaultsFillsFromDefaults(t *testing.T) {
	c, err := Config{Brokers: []string{"b"}, Topic: "t", Group: "g", BatchRows: 7}.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.BatchRows != 7 {
		t.Errorf("BatchRows %d, want the 7 given", c.BatchRows)
	}
	c.BatchRows, c.Brokers, c.Topic, c.Group, c.Logger = Defaults.BatchRows, nil, "", "", nil
	if c.LagInterval != 2*time.Second || c.MaxInFlightBytes != 32<<20 {
		t.Errorf("defaults not applied: %+v", c)
	}
	if !reflect.DeepEqual(c, Defaults) {
		t.Errorf("zero fields filled as %+v, want Defaults %+v", c, Defaults)
	}
}
