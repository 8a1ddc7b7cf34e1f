package report

import (
	"bytes"

	"github.com/wapipe/wapipe/internal/gencache"
	"github.com/wapipe/wapipe/state"
)

// statePrefix is the prefix of every report state key (the pfx constants in report.go).
const statePrefix = "rp/"

// hotStates is how many report states (messages, calls, leads, touches) stay decoded-ready in
// memory beyond the batches the state holds: a status usually arrives seconds after its
// message, and leads and touches are read again at every referral of their contact. About 10
// MB at 50,000 states of a few dozen bytes.
const hotStates = 50_000

// tx is the report state as one event sees it. All writes go through it, so that hot, when
// there is one, always agrees with the state: it holds values as the state has them, and nil
// for a key known to be absent. State in neither is a Badger read, whose per-table Bloom
// filters answer most reads of state that does not exist yet (a new message).
type tx struct {
	st  *state.Store
	hot *gencache.Cache[[]byte] // nil: every read goes to the state
	win *window                 // where per-message and per-call state lives (window.go)
	// checkpointed reads the state as checkpointed (state.GetCheckpointed), for the
	// snapshots other workers import; it has no hot cache and never writes.
	checkpointed bool
}

// get loads key k into a state via decode; false when absent.
func (t tx) get(k []byte, decode func([]byte) error) (bool, error) { return t.read(k, decode, true) }

// probe is get for a key that is one of several places a state may be (the window's
// segments): a miss is not remembered, or every new message would push useful state out.
func (t tx) probe(k []byte, decode func([]byte) error) (bool, error) { return t.read(k, decode, false) }

// read serves k from the hot cache when it knows it (a remembered miss only when misses
// count), else from the state, and remembers what it found.
func (t tx) read(k []byte, decode func([]byte) error, misses bool) (bool, error) {
	if v, ok := t.hot.Get(k); ok && (v != nil || misses) {
		if v == nil {
			return false, nil
		}
		return true, decode(v)
	}
	from := t.st.Get
	if t.checkpointed {
		from = t.st.GetCheckpointed
	}
	var kept []byte
	found, err := from(k, func(v []byte) error {
		kept = bytes.Clone(v) // Badger's slice lives only as long as its read
		return decode(kept)
	})
	if err != nil {
		return false, err
	}
	if found || misses {
		t.remember(k, kept)
	}
	return found, nil
}

func (t tx) remember(k, v []byte) {
	if t.hot != nil {
		t.hot.Put(string(k), v)
	}
}

// set writes state kept for good (leads, touches).
func (t tx) set(k, v []byte) error {
	t.st.Set(k, v)
	t.remember(k, v)
	return nil
}

// open finds the state of one message (windowMsg) or call (windowCall) in the live segments of
// the window; write it back with set at the key it returns.
// at is the event's time (0: unknown), where the search starts.
func (t tx) open(kind byte, tenant, id string, at int64, decode func([]byte) error) (openState, error) {
	return t.win.lookup(t, kind, tenant, id, at, decode)
}

func (t tx) delete(k []byte) error {
	t.st.Delete(k)
	t.remember(k, nil)
	return nil
}
