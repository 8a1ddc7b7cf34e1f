// Package report turns one deduplicated, identity-resolved event into the report rows an analyst
// queries: chat_report, package_usage_report, voice_report and leads (contract sections 3, 5, 6).
//
// What it promises:
//   - Every row it returns is the whole current state of its key (message, call, lead), never a delta,
//     and its version is higher whenever the contract says the content is better (status rank first,
//     then time), so ReplacingMergeTree FINAL shows the right row whatever order events arrive in.
//   - Re-applying an event (a replay after a crash, before its rows were durable) returns that event's
//     rows again and never counts anything twice: touches, usage rows.
//   - Its state lives in the caller's Badger under "rp/" only. Per-message and per-call state expires
//     after 8 days (Meta retries for up to 7); leads and the last few touches of a contact are kept.
//   - Times on rows are webhook times, never the processing clock.
//
// Versions: chat rows rank<<40 | status_at<<8 | seq and voice rows rank<<40 | event_at<<8 | seq
// (seq counts the rows emitted for that message or call, so a change that moves neither rank nor
// time still wins); usage rows 2^40 - billed_at (the earliest pricing status wins); leads
// rev<<32 | last_touch_at (rev counts the lead's changes: touches, merges). On one worker a key's
// versions never go down; across workers the better-ranked status wins.
package report

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/wapipe/wapipe/model"
)

// Config tunes the builder.
type Config struct {
	// AttributionWindow is how long after a touch a contact's traffic carries that touch's ad.
	AttributionWindow time.Duration // default 168h
	// Deferred keeps the events' writes in one open transaction, committed by Flush or
	// every 256 events, instead of one commit per event (see identity.Config.Deferred).
	Deferred bool
}

// Builder applies events to the report state and returns the rows to write. Its methods are safe
// for concurrent use (Badger transactions), but Rows is meant to be called from one goroutine.
type Builder struct {
	db       *badger.DB
	window   int64 // seconds, compared with webhook timestamps
	deferred bool

	mu      sync.Mutex // guards open, memo and win
	open    *badger.Txn
	memo    *memo // Deferred mode only
	pending int
	win     window
}

// deferredBatch is how many events share a transaction in Deferred mode.
const deferredBatch = 256

// Key prefixes. Parts are joined with NUL, which no id contains, so "ab"+"c" never meets "a"+"bc".
const ( // each starts with statePrefix
	// pfxWindow (window.go): segment, kind, tenant, message or call id -> msgState, callState
	pfxTouch = "rp/t/" // tenant, contact -> the contact's latest touches
	pfxLead  = "rp/l/" // tenant, contact, ad -> leadState
)

// DefaultAttributionWindow is how long after an ad click traffic is attributed to it, when
// Config.AttributionWindow is zero (Meta's 7-day click-through window).
const DefaultAttributionWindow = 168 * time.Hour

// New returns a builder over db, which the caller opened and shares with other packages.
func New(db *badger.DB, cfg Config) (*Builder, error) {
	w := cfg.AttributionWindow
	if w <= 0 {
		w = DefaultAttributionWindow
	}
	b := &Builder{db: db, window: int64(w / time.Second), deferred: cfg.Deferred, win: window{now: time.Now}}
	if cfg.Deferred {
		b.memo = newMemo()
	}
	if err := b.win.load(db); err != nil {
		return nil, fmt.Errorf("report: open the window: %w", err)
	}
	return b, nil
}

// key builds a fresh key; Badger keeps the slice until commit, so keys are never reused.
func key(pfx string, parts ...string) []byte {
	n := len(pfx)
	for _, p := range parts {
		n += len(p) + 1
	}
	k := make([]byte, 0, n)
	k = append(k, pfx...)
	for i, p := range parts {
		if i > 0 {
			k = append(k, 0)
		}
		k = append(k, p...)
	}
	return k
}

// update runs fn in one read-write transaction, for an event of time at. Conflicts only happen if
// two goroutines touch the same message at once; a retry then re-reads the winner's state, which
// keeps counting exact.
func (b *Builder) update(at int64, fn func(tx) error) error {
	b.mu.Lock()
	b.win.observe(at)
	if b.deferred {
		defer b.mu.Unlock()
		if b.open == nil {
			b.open, b.pending = b.db.NewTransaction(true), 0
		}
		if err := fn(tx{b.open, b.memo, &b.win}); err != nil {
			b.open.Discard() // the caller stops: nothing since the last Flush becomes durable
			b.open = nil
			b.memo.discarded()
			return err
		}
		if b.pending++; b.pending >= deferredBatch {
			return b.commitOpen()
		}
		return nil
	}
	win := b.win // a copy: writers outside Deferred mode run concurrently
	b.mu.Unlock()
	for attempt := 0; ; attempt++ {
		err := b.db.Update(func(txn *badger.Txn) error {
			if err := win.saveWatermark(txn); err != nil {
				return err
			}
			return fn(tx{txn: txn, win: &win})
		})
		if errors.Is(err, badger.ErrConflict) && attempt < 3 {
			continue
		}
		return err
	}
}

// Rows applies one event (already deduplicated and resolved to who) and returns the rows to write now.
func (b *Builder) Rows(ev *model.Event, who model.Who) ([]model.Row, error) {
	var apply func(tx) ([]model.Row, error)
	switch ev.Kind {
	case model.KindInbound:
		apply = func(txn tx) ([]model.Row, error) { return b.inbound(txn, ev, who) }
	case model.KindStatus:
		apply = func(txn tx) ([]model.Row, error) { return b.status(txn, ev, who) }
	case model.KindCall:
		apply = func(txn tx) ([]model.Row, error) { return b.call(txn, ev, who) }
	case model.KindIdentityChange:
		return nil, nil // identity is the caller's; no report row (contract 6)
	default:
		return nil, fmt.Errorf("report: event %q: unknown kind %d", ev.ID, ev.Kind)
	}
	if ev.ID == "" {
		return nil, fmt.Errorf("report: %s event without id", ev.Kind)
	}
	var rows []model.Row
	err := b.update(ev.At, func(txn tx) error {
		var err error
		rows, err = apply(txn) // reassigned on retry, so a retried txn never leaks rows
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("report: %s %s: %w", ev.Kind, ev.ID, err)
	}
	return rows, nil
}

// MessageContact returns the contact an outbound message (or call) was resolved to before, so a
// failed status that carries only a phone or nothing but the message id resolves through the
// message it belongs to. Inbound messages and calls are recorded too. The contact is the one
// recorded then; after a merge the caller follows merged_into.
func (b *Builder) MessageContact(tenant, id string) (contactID string, ok bool, err error) {
	err = b.view(func(txn tx) error {
		var m msgState
		st, err := txn.open(windowMsg, tenant, id, 0, m.decode)
		if err != nil || st.found {
			contactID, ok = m.contact, st.found
			return err
		}
		var c callState
		st, err = txn.open(windowCall, tenant, id, 0, c.decode)
		contactID, ok = c.contact, st.found
		return err
	})
	if err != nil {
		return "", false, fmt.Errorf("report: message contact %s: %w", id, err)
	}
	return contactID, ok, nil
}

// Flush commits the writes of Deferred mode; the pipeline calls it before a batch's rows go
// to the sink. Between batches, with nothing open, it also drops the window's segments the
// watermark has left behind (a concurrent Badger writer may see ErrBlockedWrites meanwhile).
func (b *Builder) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.commitOpen(); err != nil {
		return err
	}
	if b.win.due() {
		if err := b.win.sweep(b.db); err != nil {
			return fmt.Errorf("report: drop expired messages and calls: %w", err)
		}
	}
	return nil
}

func (b *Builder) commitOpen() error {
	txn := b.open
	if txn == nil {
		return nil
	}
	b.open = nil
	if err := b.win.saveWatermark(txn); err != nil {
		txn.Discard()
		b.memo.discarded()
		return fmt.Errorf("report: commit: %w", err)
	}
	if err := txn.Commit(); err != nil {
		b.memo.discarded()
		return fmt.Errorf("report: commit: %w", err)
	}
	b.memo.committed()
	return nil
}

// view reads in the open transaction when there is one, so the next event sees the last.
func (b *Builder) view(fn func(tx) error) error {
	b.mu.Lock()
	if b.open != nil {
		defer b.mu.Unlock()
		return fn(tx{b.open, b.memo, &b.win})
	}
	win := b.win
	b.mu.Unlock()
	return b.db.View(func(txn *badger.Txn) error { return fn(tx{txn: txn, win: &win}) })
}

// ptr returns nil for "", the way optional string columns say "not known".
func ptr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
