package identity

import (
	"errors"
	"fmt"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Store resolves events to contacts. Create it with New; it is safe for concurrent use.
type Store struct {
	db    *badger.DB
	batch int
	step  int64 // Config.SeenStep in seconds

	mu    sync.Mutex // serializes writers: the cache and the working set are shared
	cache cache
	w     work // reused between transactions to spare allocations

	// With Config.Deferred, Resolve and Import share one open transaction (see Flush).
	deferred bool
	open     *badger.Txn
	pending  int                 // events applied in open
	dirty    map[ContactRef]bool // contacts changed in open (dirty.go)
	seq      uint64              // of the last dirty record written
	flushed  []uint64            // per Flush not yet Durable: the last dirty record it covers
	// erasedPending are the contacts whose erasure was applied and committed since the
	// last TakeErased (erase.go).
	erasedPending []ContactRef
	// tombstones says whether any erasure arrived before its contact (erase.go): until one
	// does, a new contact needs no read to know it is not erased.
	tombstones bool
	lazy       int64 // Config.LastSeenStep in seconds
}

// maxConflictRetries bounds retries of a transaction that lost a conflict. Writers of
// one Store never conflict with each other (they are serialized), so a conflict means
// someone else wrote under id/; retrying a few times is enough.
const maxConflictRetries = 8

// New returns a Store on db with the default Config. The caller owns db and closes it
// after the last call.
func New(db *badger.DB) *Store { return NewWithConfig(db, Config{}) }

// NewWithConfig returns a Store on db.
func NewWithConfig(db *badger.DB, cfg Config) *Store {
	if cfg.CacheContacts == 0 {
		cfg.CacheContacts = 100_000
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 256
	}
	s := &Store{db: db, batch: cfg.BatchSize, step: int64(cfg.SeenStep / time.Second), cache: newCache(cfg.CacheContacts),
		deferred: cfg.Deferred, dirty: map[ContactRef]bool{}, lazy: int64(cfg.LastSeenStep / time.Second)}
	s.w = work{s: s, slots: map[string]*slot{}, index: map[string]string{}}
	s.tombstones = hasPrefix(db, tombstonePfx)
	return s
}

// Resolve applies the rules of contract section 4 to one event's facts in one Badger
// transaction and returns the event's identity and the rows it changed.
func (s *Store) Resolve(f Facts) (Resolution, error) {
	rs, err := s.ResolveBatch([]Facts{f})
	if err != nil {
		return Resolution{}, err
	}
	return rs[0], nil
}

// ResolveBatch is Resolve for many events, in order, committing up to Config.BatchSize
// events per transaction: one commit costs about as much as resolving several events,
// so batches are how the store keeps up with a partition. Later events see earlier
// ones. On error the returned resolutions are those of the committed prefix.
func (s *Store) ResolveBatch(fs []Facts) ([]Resolution, error) {
	for i := range fs {
		if err := check(&fs[i]); err != nil {
			return nil, fmt.Errorf("facts[%d]: %w", i, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deferred {
		return s.applyOpen(fs)
	}
	out := make([]Resolution, 0, len(fs))
	for n := s.batch; len(fs) > 0; {
		n = min(n, len(fs))
		rs, err := s.commit(fs[:n])
		if errors.Is(err, badger.ErrTxnTooBig) && n > 1 {
			n /= 2 // the transaction is all or nothing, so a smaller one can simply redo it
			continue
		}
		if err != nil {
			return out, err
		}
		out, fs = append(out, rs...), fs[n:]
	}
	return out, nil
}

// commit applies fs in one transaction, retrying conflicts.
func (s *Store) commit(fs []Facts) ([]Resolution, error) {
	for attempt := 0; ; attempt++ {
		rs, err := s.try(fs)
		if err == nil {
			s.w.publish()
			return rs, nil
		}
		if !errors.Is(err, badger.ErrConflict) || attempt == maxConflictRetries {
			return nil, err
		}
	}
}

func (s *Store) try(fs []Facts) ([]Resolution, error) {
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	s.w.reset(txn)
	rs := make([]Resolution, len(fs))
	for i := range fs {
		r, err := s.w.apply(&fs[i])
		if err != nil {
			return nil, err
		}
		rs[i] = r
	}
	return rs, txn.Commit()
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

// applyOpen applies fs in the open transaction, committing it every Config.BatchSize
// events. On error the open transaction is dropped whole: the caller must not make the
// rows of events since the last Flush durable (the pipeline stops and re-reads them).
func (s *Store) applyOpen(fs []Facts) ([]Resolution, error) {
	out := make([]Resolution, len(fs))
	for i := range fs {
		s.begin()
		r, err := s.w.apply(&fs[i])
		if err != nil {
			s.abort()
			return nil, err
		}
		out[i] = r
		if err := s.counted(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) begin() {
	if s.open == nil {
		s.open = s.db.NewTransaction(true)
		s.w.reset(s.open)
		s.pending = 0
	}
}

// counted commits the open transaction once it holds Config.BatchSize events.
func (s *Store) counted() error {
	if s.pending++; s.pending >= s.batch {
		return s.commitOpen()
	}
	return nil
}

func (s *Store) commitOpen() error {
	txn := s.open
	if txn == nil {
		return nil
	}
	s.open = nil
	if err := s.writeDirty(txn); err != nil {
		txn.Discard()
		return fmt.Errorf("identity: commit: %w", err)
	}
	if err := txn.Commit(); err != nil {
		return fmt.Errorf("identity: commit: %w", err)
	}
	s.w.publish()
	return nil
}

func (s *Store) abort() {
	clear(s.dirty)
	if s.open != nil {
		s.open.Discard()
		s.open = nil
	}
}

// Flush commits what Resolve and Import applied since the last Flush (Config.Deferred);
// the pipeline calls it before a batch's rows go to the sink, so the store is never
// behind the rows it emitted.
func (s *Store) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.commitOpen(); err != nil {
		return err
	}
	s.flushed = append(s.flushed, s.seq)
	return nil
}

// view reads in the open transaction when there is one (so the process goroutine sees
// what it applied since the last Flush), else in a read-only one.
func (s *Store) view(fn func(*badger.Txn) error) error {
	s.mu.Lock()
	if s.open != nil {
		defer s.mu.Unlock()
		return fn(s.open)
	}
	s.mu.Unlock()
	return s.db.View(fn)
}
