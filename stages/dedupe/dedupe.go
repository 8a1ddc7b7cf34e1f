// Package dedupe remembers which webhook events were already counted, so a redelivered
// webhook (Meta retries for up to 7 days; Kafka redelivers after crashes and rebalances)
// adds nothing to the reports.
//
// It promises never to turn a crash into a loss: a key is only remembered on disk after the
// rows it produced are durable (Remember is called by the pipeline after the sink
// acknowledged them). Until then the key is held in memory, so the same event twice in
// flight is still counted once. Keys expire after TTL (8 days by default: Meta's 7 days of
// retries plus a margin).
package dedupe

import (
	"fmt"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/wapipe/wapipe/internal/keyfilter"
)

const prefix = "dd/"

// DefaultTTL covers Meta's 7 days of retries with a day of margin.
const DefaultTTL = 8 * 24 * time.Hour

// Set is the seen-set. Safe for concurrent use.
type Set struct {
	db  *badger.DB
	ttl time.Duration

	remember sync.Mutex // one Remember at a time, so a filter rebuild misses no key
	mu       sync.Mutex
	pending  map[string]int    // keys in flight: processed, not yet durable (count of holders)
	filter   *keyfilter.Filter // the remembered keys, approximately
}

// New returns a seen-set stored in db under its own key prefix.
// It reads the stored keys once, to fill the filter in front of them.
func New(db *badger.DB, ttl time.Duration) (*Set, error) {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	f, err := keyfilter.Load(db, prefix)
	if err != nil {
		return nil, fmt.Errorf("dedupe: load filter: %w", err)
	}
	return &Set{db: db, ttl: ttl, pending: map[string]int{}, filter: f}, nil
}

// Seen reports whether key was counted before, durably or by a record still in flight.
func (s *Set) Seen(key string) (bool, error) {
	s.mu.Lock()
	_, inFlight := s.pending[key]
	maybe := inFlight || s.filter.MayHoldString(key)
	s.mu.Unlock()
	if inFlight {
		return true, nil
	}
	if !maybe {
		return false, nil // never remembered
	}
	err := s.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get([]byte(prefix + key))
		return err
	})
	switch err {
	case nil:
		return true, nil
	case badger.ErrKeyNotFound:
		return false, nil
	}
	return false, err
}

// Hold marks key as counted by a record in flight.
func (s *Set) Hold(key string) {
	s.mu.Lock()
	s.pending[key]++
	s.mu.Unlock()
}

// Remember stores keys whose rows are now durable and releases their hold.
func (s *Set) Remember(keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	s.remember.Lock()
	defer s.remember.Unlock()
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, k := range keys {
		if err := wb.SetEntry(badger.NewEntry([]byte(prefix+k), nil).WithTTL(s.ttl)); err != nil {
			return err
		}
	}
	if err := wb.Flush(); err != nil {
		return err
	}
	s.mu.Lock()
	for _, k := range keys {
		s.filter.AddString(k)
	}
	full := s.filter.Full()
	s.mu.Unlock()
	if full { // rebuilt from what is stored: expired keys drop out, room doubles
		f, err := keyfilter.Load(s.db, prefix)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.filter = f
		s.mu.Unlock()
	}
	s.release(keys)
	return nil
}

// Forget releases holds without remembering, for records that will be re-read instead.
func (s *Set) Forget(keys []string) { s.release(keys) }

func (s *Set) release(keys []string) {
	s.mu.Lock()
	for _, k := range keys {
		if s.pending[k] <= 1 {
			delete(s.pending, k)
		} else {
			s.pending[k]--
		}
	}
	s.mu.Unlock()
}
