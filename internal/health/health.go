// Package health keeps which of the worker's dependencies are down and since when, for
// /readyz (contract section 12): components mark a dependency down when an operation on it
// fails and up when one succeeds; Down lists what is down now.
package health

import (
	"sort"
	"sync"
	"time"
)

// Dependency names as /readyz reports them.
const (
	Kafka         = "kafka"
	ClickHouse    = "clickhouse"
	IdentityTopic = "identity-topic"
)

// Deps is safe for concurrent use; the zero value is ready (nothing down). A nil *Deps
// ignores every call, so components work without one (tests).
type Deps struct {
	mu   sync.Mutex
	down map[string]state
}

type state struct {
	since time.Time
	err   string
}

// Outage is one dependency that is down.
type Outage struct {
	Dependency string    `json:"dependency"`
	Since      time.Time `json:"since"` // RFC 3339 in JSON
	Error      string    `json:"error"`
}

// SetDown marks dep down; since stays at the first failure of the outage.
func (d *Deps) SetDown(dep string, err error) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.down == nil {
		d.down = map[string]state{}
	}
	s, ok := d.down[dep]
	if !ok {
		s.since = time.Now().UTC()
	}
	if err != nil {
		s.err = err.Error()
	}
	d.down[dep] = s
}

// SetUp marks dep up.
func (d *Deps) SetUp(dep string) {
	if d == nil {
		return
	}
	d.mu.Lock()
	delete(d.down, dep)
	d.mu.Unlock()
}

// Down lists the dependencies down now, by name.
func (d *Deps) Down() []Outage {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Outage, 0, len(d.down))
	for dep, s := range d.down {
		out = append(out, Outage{Dependency: dep, Since: s.since.Truncate(time.Second), Error: s.err})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Dependency < out[j].Dependency })
	return out
}

// NotReady is why a worker is not ready: a reason, and the dependencies down if any.
// /readyz answers it as its JSON body.
type NotReady struct {
	Reason string   `json:"reason"`
	Down   []Outage `json:"down"`
}

func (e *NotReady) Error() string { return e.Reason }
