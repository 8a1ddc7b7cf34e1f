// Package health keeps which of the worker's dependencies are down and since when, for
// /readyz (contract section 12): components mark a dependency down when an operation on it
// fails and up when one succeeds; Down lists what is down now.
//
// It promises: a dependency is down while any reporter says so; with Log set, the end of
// each outage is logged once, with its length, however many components saw it.
package health

import (
	"log/slog"
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
	// Log, when set, gets one line at the end of each outage of a dependency.
	Log *slog.Logger

	mu      sync.Mutex
	down    map[report]state
	outages map[string]time.Time // dependency -> when its current outage began
}

// report is one reporter's view of one dependency: the components that share the default
// reporter clear each other's failures by a success (every batch's write does), while a
// probe (Reporter) clears only what it reported itself.
type report struct{ dep, who string }

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
func (d *Deps) SetDown(dep string, err error) { d.setDown(report{dep: dep}, err) }

// SetUp marks dep up.
func (d *Deps) SetUp(dep string) { d.setUp(report{dep: dep}) }

// Reporter is a component whose view of the dependencies is its own: its successes do
// not clear what others reported down (a broker that answers a probe while dead letters
// cannot be produced is still down), and theirs do not clear its failures.
type Reporter struct {
	d   *Deps
	who string
}

// Reporter returns the reporter named who.
func (d *Deps) Reporter(who string) Reporter { return Reporter{d: d, who: who} }

// SetDown marks dep down as this reporter sees it.
func (r Reporter) SetDown(dep string, err error) { r.d.setDown(report{dep, r.who}, err) }

// SetUp marks dep up as this reporter sees it.
func (r Reporter) SetUp(dep string) { r.d.setUp(report{dep, r.who}) }

func (d *Deps) setDown(k report, err error) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.down == nil {
		d.down, d.outages = map[report]state{}, map[string]time.Time{}
	}
	if _, ok := d.outages[k.dep]; !ok {
		d.outages[k.dep] = time.Now()
	}
	s, ok := d.down[k]
	if !ok {
		s.since = time.Now().UTC()
	}
	if err != nil {
		s.err = err.Error()
	}
	d.down[k] = s
}

func (d *Deps) setUp(k report) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.down[k]; !ok {
		return
	}
	delete(d.down, k)
	for other := range d.down {
		if other.dep == k.dep {
			return // another component still sees it down
		}
	}
	since := d.outages[k.dep]
	delete(d.outages, k.dep)
	if d.Log != nil {
		d.Log.Info("recovered", "dependency", k.dep, "outage", time.Since(since).Round(time.Millisecond).String())
	}
}

// Down lists the dependencies down now, by name: down for any reporter, since the
// earliest of their failures, with that failure's error.
func (d *Deps) Down() []Outage {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	byDep := map[string]state{}
	for k, s := range d.down {
		if seen, ok := byDep[k.dep]; !ok || s.since.Before(seen.since) {
			byDep[k.dep] = s
		}
	}
	out := make([]Outage, 0, len(byDep))
	for dep, s := range byDep {
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
