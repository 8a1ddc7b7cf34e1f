// Package report turns one deduplicated, identity-resolved event into the report rows an analyst
// queries: chat_report, package_usage_report, voice_report and leads (contract sections 3, 5, 6).
//
// What it promises:
//   - Every row it returns is the whole current state of its key (message, call, lead), never a delta,
//     and its version is higher whenever the contract says the content is better (status rank first,
//     then time), so ReplacingMergeTree FINAL shows the right row whatever order events arrive in.
//   - Re-applying an event (a replay after a crash, before its rows were durable) returns that event's
//     rows again and never counts anything twice: touches, usage rows.
//   - Its state lives in the state under "rp/" only (package state: in memory until the caller
//     checkpoints a batch, then in Badger). Per-message and per-call state expires 7 to 8 days of
//     event time after its message or call was first seen (window.go; Meta retries for up to 7);
//     leads and the last few touches of a contact are kept.
//   - Times on rows are webhook times, never the processing clock.
//
// Versions: chat rows rank<<40 | status_at<<8 | seq and voice rows rank<<40 | event_at<<8 | seq
// (seq counts the rows emitted for that message or call, so a change that moves neither rank nor
// time still wins); usage rows 2^40 - billed_at (the earliest pricing status wins); leads
// rev<<32 | last_touch_at (rev counts the lead's changes: touches, merges). On one worker a key's
// versions never go down; across workers the better-ranked status wins.
package report

import (
	"fmt"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/wapipe/wapipe/internal/gencache"
	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/state"
)

// Config tunes the builder.
type Config struct {
	// AttributionWindow is how long after a touch a contact's traffic carries that touch's ad.
	AttributionWindow time.Duration // default 168h
	// State, when set, is the state the builder keeps its report state in, shared with its
	// caller, who seals it once per batch and checkpoints it once the batch's rows are
	// durable (package state). nil: the builder keeps one of its own on the database and
	// checkpoints it after every event (tools and tests).
	State *state.Store
}

// Builder applies events to the report state and returns the rows to write. Its methods are
// safe for concurrent use; writers take turns.
type Builder struct {
	st     *state.Store
	shared bool
	window int64 // seconds, compared with webhook timestamps

	mu  sync.Mutex // serializes writers; guards hot and win
	hot *gencache.Cache[[]byte]
	win window
}

// Key prefixes. Parts are joined with NUL, which no id contains, so "ab"+"c" never meets "a"+"bc".
const ( // each starts with statePrefix
	// pfxWindow (window.go): segment, kind, tenant, message or call id -> msgState, callState
	pfxTouch = "rp/t/" // tenant, contact -> the contact's latest touches
	pfxLead  = "rp/l/" // tenant, contact, ad -> leadState
)

// DefaultAttributionWindow is how long after an ad click traffic is attributed to it, when
// Config.AttributionWindow is zero (Meta's 7-day click-through window).
const DefaultAttributionWindow = 168 * time.Hour

// New returns a builder over db, which the caller opened and shares with other packages, or
// over cfg.State when it is set (then db is unused).
func New(db *badger.DB, cfg Config) (*Builder, error) {
	w := cfg.AttributionWindow
	if w <= 0 {
		w = DefaultAttributionWindow
	}
	st, shared := cfg.State, cfg.State != nil
	if !shared {
		st = state.Open(db)
	}
	b := &Builder{st: st, shared: shared, window: int64(w / time.Second), hot: gencache.New[[]byte](hotStates),
		win: window{now: time.Now}}
	if err := b.win.load(st); err != nil {
		return nil, fmt.Errorf("report: open the window: %w", err)
	}
	return b, nil
}

// key builds a fresh key; the state keeps the slice, so keys are never reused.
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

// update runs fn, the state change of one event of time at. On error the state's open
// changes are discarded (the caller stops; nothing since the last Seal becomes durable).
func (b *Builder) update(at int64, fn func(tx) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.win.observe(b.st, at)
	if err := fn(b.tx()); err != nil {
		b.st.Discard()
		b.hot = gencache.New[[]byte](hotStates) // it may hold what was discarded
		return err
	}
	if b.shared {
		return nil
	}
	b.win.saveWatermark(b.st)
	b.st.Seal()
	return b.st.Checkpoint()
}

func (b *Builder) tx() tx { return tx{st: b.st, hot: b.hot, win: &b.win} }

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
// message it belongs to. Calls are recorded too, and inbound messages that came through an ad
// (the others keep no state: no status ever names them). The contact is the one recorded then;
// after a merge the caller follows merged_into.
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

// Flush ends the batch for the report state: the watermark goes with it, and once the
// watermark has left a segment behind, that segment is dropped. The caller seals the state
// after it (the pipeline calls Flush before a batch's rows go to the sink).
func (b *Builder) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.win.saveWatermark(b.st)
	if b.win.due() {
		if err := b.win.sweep(b.st); err != nil {
			return fmt.Errorf("report: drop expired messages and calls: %w", err)
		}
	}
	return nil
}

// view reads the state as the last event left it.
func (b *Builder) view(fn func(tx) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return fn(b.tx())
}

// ptr returns nil for "", the way optional string columns say "not known".
func ptr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
