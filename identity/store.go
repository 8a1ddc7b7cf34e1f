package identity

import (
	"fmt"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/wapipe/wapipe/state"
)

// Store resolves events to contacts. Create it with New; it is safe for concurrent use.
type Store struct {
	st     *state.Store
	shared bool // Config.State: the caller seals and checkpoints
	batch  int
	step   int64 // Config.SeenStep in seconds
	lazy   int64 // Config.LastSeenStep in seconds

	mu      sync.Mutex // serializes writers: the cache and the working set are shared
	cache   cache
	w       work // reused between rounds to spare allocations
	pending int  // events applied in the working set since it was last published

	// The contacts changed since the last SealDirty, and per sealed batch not yet durable the
	// record of them (dirty.go; 0: the batch changed none).
	dirty   map[ContactRef]bool
	seq     uint64
	flushed []uint64
	// erasedPending are the contacts whose erasure was applied since the last TakeErased
	// (erase.go).
	erasedPending []ContactRef
	// tombstones says whether any erasure arrived before its contact (erase.go): until one
	// does, a new contact needs no read to know it is not erased.
	tombstones bool
}

// roundSize is how many events share one working set before it is published to the cache
// and reset: the working set keeps every contact it touched decoded, so it is bounded.
const roundSize = 256

// New returns a Store on db with the default Config. The caller owns db and closes it
// after the last call.
func New(db *badger.DB) *Store { return NewWithConfig(db, Config{}) }

// NewWithConfig returns a Store on db, or on cfg.State when it is set (then db is unused).
func NewWithConfig(db *badger.DB, cfg Config) *Store {
	if cfg.CacheContacts == 0 {
		cfg.CacheContacts = 100_000
	}
	st, shared := cfg.State, cfg.State != nil
	if !shared {
		st = state.Open(db)
	}
	s := &Store{st: st, shared: shared, batch: roundSize, step: int64(cfg.SeenStep / time.Second),
		cache: newCache(cfg.CacheContacts), lazy: int64(cfg.LastSeenStep / time.Second), dirty: map[ContactRef]bool{}}
	s.w = work{s: s, slots: map[string]*slot{}, index: map[string]string{}}
	s.tombstones = hasPrefix(st, tombstonePfx)
	return s
}

// Resolve applies the rules of contract section 4 to one event's facts and returns the
// event's identity and the rows it changed.
func (s *Store) Resolve(f Facts) (Resolution, error) {
	rs, err := s.ResolveBatch([]Facts{f})
	if err != nil {
		return Resolution{}, err
	}
	return rs[0], nil
}

// ResolveBatch is Resolve for many events, in order: later events see earlier ones. An
// event either applies whole or not at all. On error nothing since the state's last Seal
// may become durable: the changes are discarded, and the caller re-reads those records.
func (s *Store) ResolveBatch(fs []Facts) ([]Resolution, error) {
	for i := range fs {
		if err := check(&fs[i]); err != nil {
			return nil, fmt.Errorf("facts[%d]: %w", i, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Resolution, len(fs))
	for i := range fs {
		r, err := s.w.apply(&fs[i])
		if err != nil {
			s.abort()
			return nil, err
		}
		out[i] = r
		s.counted()
	}
	return out, s.settle()
}

// check rejects facts the rules cannot apply.
func check(f *Facts) error {
	if f.Tenant == "" {
		return fmt.Errorf("%w: no tenant", ErrInvalid)
	}
	if _, ok := sourceRank[f.source()]; f.Phone != "" && !ok {
		return fmt.Errorf("%w: unknown phone source %q", ErrInvalid, f.PhoneSource)
	}
	return nil
}

// counted publishes the working set once it holds a round of events.
func (s *Store) counted() {
	if s.pending++; s.pending >= s.batch {
		s.w.publish()
		s.w.reset()
		s.pending = 0
	}
}

// settle ends a call: its working set goes to the cache (the next call starts from the
// state, as a concurrent reader sees it), and with a state of its own the store
// checkpoints it now (nothing waits for rows to become durable); with a shared one the
// caller does, once per batch.
func (s *Store) settle() error {
	s.w.publish()
	s.w.reset()
	s.erasedPending = append(s.erasedPending, s.w.erased...)
	s.w.erased = s.w.erased[:0]
	s.pending = 0
	if s.shared {
		return nil
	}
	s.st.Seal()
	return s.st.Checkpoint()
}

// abort drops the working set, the state's open changes (this call's and those of every
// call since the last Seal, which the caller will redo), the erasures they applied, and
// the cache, which may hold contacts as those changes left them.
func (s *Store) abort() {
	clear(s.dirty)
	s.w.reset()
	s.pending = 0
	s.w.erased = s.w.erased[:0]
	if s.shared {
		s.erasedPending = nil // all since the last Seal (TakeErased follows each), discarded now
	}
	s.st.Discard()
	s.cache = newCache(s.cache.size())
}
