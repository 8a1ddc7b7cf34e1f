package report

import (
	"errors"

	"github.com/dgraph-io/badger/v4"
	"github.com/wapipe/wapipe/internal/gencache"
)

// statePrefix is the prefix of every report state key (the pfx constants in report.go).
const statePrefix = "rp/"

// hotStates is how many report states (messages, calls, leads, touches) Deferred mode keeps
// in memory: a status usually arrives seconds after its message, so most reads are of state
// written moments before, and serving them here skips Badger's memtable and table lookups.
// About 10 MB at 50,000 states of a few dozen bytes.
const hotStates = 50_000

// tx is one transaction over the report state. All writes go through it, so that memo, when
// there is one (Deferred mode), always agrees with Badger.
type tx struct {
	txn  *badger.Txn
	memo *memo   // nil: reads go to Badger
	win  *window // where per-message and per-call state lives (window.go)
}

// memo is the report state Deferred mode serves from memory. written is what the open
// transaction wrote (nil for a delete); hot is committed state, filled on reads and by
// committed writes (a nil value means known absent). Both are bounded; state that is in
// neither is a Badger read, whose own per-table Bloom filters answer most reads of state
// that does not exist yet (a new message). An in-memory filter of every stored key used to
// answer those, but it held 8 days of message keys: it grew with traffic (0.5-1 GB of heap
// at 1,000 webhooks a second) and was rebuilt by scanning every key. Guarded by Builder.mu.
type memo struct {
	hot     *gencache.Cache[[]byte]
	written map[string][]byte
}

func newMemo() *memo {
	return &memo{hot: gencache.New[[]byte](hotStates), written: map[string][]byte{}}
}

// committed moves the open transaction's writes into hot once Badger has them.
func (m *memo) committed() {
	if m == nil {
		return
	}
	for k, v := range m.written {
		m.hot.Put(k, v)
	}
	clear(m.written)
}

// discarded forgets the writes of a transaction that will never commit.
func (m *memo) discarded() {
	if m != nil {
		clear(m.written)
	}
}

// lookup answers from memory when it can: (value, true), with a nil value for absent.
func (m *memo) lookup(k []byte) ([]byte, bool) {
	if v, ok := m.written[string(k)]; ok {
		return v, true
	}
	if v, ok := m.hot.Get(k); ok {
		return v, true
	}
	return nil, false
}

// get loads key k into a state via decode; false when absent.
func (t tx) get(k []byte, decode func([]byte) error) (bool, error) {
	if t.memo != nil {
		if v, ok := t.memo.lookup(k); ok {
			if v == nil {
				return false, nil
			}
			return true, decode(v)
		}
	}
	item, err := t.txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		t.remember(k, nil)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if t.memo == nil {
		return true, item.Value(decode)
	}
	// Not written by the open transaction (lookup found nothing), so this is committed state.
	v, err := item.ValueCopy(nil)
	if err != nil {
		return false, err
	}
	t.remember(k, v)
	return true, decode(v)
}

func (t tx) remember(k, v []byte) {
	if t.memo != nil {
		t.memo.hot.Put(string(k), v)
	}
}

func (t tx) wrote(k, v []byte) {
	if t.memo != nil {
		t.memo.written[string(k)] = v
	}
}

// set writes state kept for good (leads, touches).
func (t tx) set(k, v []byte) error {
	if err := t.txn.Set(k, v); err != nil {
		return err
	}
	t.wrote(k, v)
	return nil
}

// open finds the state of one message (windowMsg) or call (windowCall) in the live segments of
// the window; write it back with set at the key it returns.
// at is the event's time (0: unknown), where the search starts.
func (t tx) open(kind byte, tenant, id string, at int64, decode func([]byte) error) (openState, error) {
	return t.win.lookup(t, kind, tenant, id, at, decode)
}

func (t tx) delete(k []byte) error {
	if err := t.txn.Delete(k); err != nil {
		return err
	}
	t.wrote(k, nil)
	return nil
}
