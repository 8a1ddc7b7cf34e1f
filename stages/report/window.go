package report

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/wapipe/wapipe/state"
)

// The window: per-message and per-call state is needed only while statuses and call events
// for it can still arrive (Meta retries for up to 7 days), so it lives in segments of event
// time, as a windowed store of Kafka Streams does. A state is written into the segment that was
// newest when the worker first saw its message or call, reads look in the liveSegments newest
// segments, and the segments behind them are dropped whole once the watermark (the newest event
// time seen) moves on. So a worker holds 7 to 8 days of event time of messages and calls, however
// long it runs and however fast it replays old traffic: a Badger TTL counts the wall clock, which
// a replay of 30 days in an hour never reaches.
//
// The price is the reads: a message's state may be in any live segment. A read starts at the
// segment of its event's own time (where an event's message almost always is, traffic being
// roughly in time order), so a known message costs one or two lookups; only a new one looks in
// all eight, and Badger's per-table Bloom filters answer most of those.
const (
	segmentSeconds = 24 * 3600
	liveSegments   = 8 // a state lives 7 to 8 days of watermark time after its message was first seen

	// maxClockSkew bounds how far ahead of this host's clock an event's time may move the
	// watermark: a webhook stamped years ahead must not drop every open message.
	maxClockSkew = time.Hour
)

// Key layout: pfxWindow, the segment (big-endian uint32, so older segments sort first and one
// prefix holds a whole segment), the kind byte, then tenant NUL id.
const (
	pfxWindow    = "rp/w/"
	windowMsg    = 'm'
	windowCall   = 'c'
	watermarkKey = "rp/x/watermark" // the watermark, committed with the state it covers
)

// Before the window, per-message and per-call state lived under these prefixes with a
// Badger TTL of 8 days of wall clock. Nothing writes them any more; a state directory of
// that version still has them, so reads fall back to them (legacy) until they expire.
const (
	legacyMsg  = "rp/m/"
	legacyCall = "rp/c/"
)

// window tracks the watermark and the sweeps. Guarded by Builder.mu.
type window struct {
	watermark int64  // newest event time applied, clamped to the clock plus maxClockSkew
	swept     uint32 // oldestLive at the last sweep: segments below it are gone
	legacy    bool   // the store still holds state written before the window
	now       func() time.Time
	// filters holds a Bloom filter of each live segment's states (filter.go); a segment
	// without one is read whatever the state.
	filters map[uint32]*segmentFilter
}

func segmentOf(at int64) uint32 { return uint32(max(at, 0) / segmentSeconds) }

func windowKey(seg uint32, kind byte, tenant, id string) []byte {
	k := make([]byte, 0, len(pfxWindow)+5+len(tenant)+1+len(id))
	k = append(k, pfxWindow...)
	k = binary.BigEndian.AppendUint32(k, seg)
	k = append(k, kind)
	k = append(k, tenant...)
	k = append(k, 0)
	return append(k, id...)
}

// observe moves the watermark to an event's time. When that moves the newest segment on, the
// one it leaves is final: its filter goes into the state with it, and the new live segments
// start with empty filters.
func (w *window) observe(st *state.Store, at int64) {
	limit := w.now().Add(maxClockSkew).Unix()
	was := w.newest()
	w.watermark = max(w.watermark, min(at, limit))
	now := w.newest()
	if now == was {
		return
	}
	if f := w.filters[was]; f != nil && was >= w.oldestLive() {
		st.Set(filterKey(was), f.encode())
	}
	prev := minFilterStates
	if f := w.filters[was]; f != nil {
		prev = max(prev, 2*f.n)
	}
	for seg := max(was+1, w.oldestLive()); seg <= now; seg++ {
		if w.filters[seg] == nil {
			w.filters[seg] = newSegmentFilter(0)
		}
	}
	w.filters[now] = newSegmentFilter(prev)
}

// newest is the segment new state goes into.
func (w *window) newest() uint32 { return segmentOf(w.watermark) }

// oldestLive is the oldest segment reads look in.
func (w *window) oldestLive() uint32 {
	n := w.newest()
	if n < liveSegments-1 {
		return 0
	}
	return n - (liveSegments - 1)
}

// openState is where one message's or call's state was found (or goes): its key in the window.
type openState struct {
	key   []byte
	found bool
}

// lookup finds the state of (kind, tenant, id) in the live segments, from the segment of at
// (the event's time; 0 for none) down to the oldest, then up to the newest, and decodes it; not
// found, the key is that of the newest segment.
func (w *window) lookup(txn tx, kind byte, tenant, id string, at int64, decode func([]byte) error) (openState, error) {
	oldest, newest := w.oldestLive(), w.newest()
	start := newest
	if at > 0 {
		start = min(max(segmentOf(at), oldest), newest)
	}
	h := stateHash(kind, tenant, id)
	for i := uint32(0); i <= newest-oldest; i++ {
		seg := start - i
		if i > start-oldest {
			seg = start + (i - (start - oldest))
		}
		if f := w.filters[seg]; f != nil && !f.mayHold(h) {
			continue // not in this segment: no read
		}
		k := windowKey(seg, kind, tenant, id)
		found, err := txn.probe(k, decode)
		if err != nil || found {
			return openState{key: k, found: found}, err
		}
	}
	// Not found: it goes into the newest segment (the caller writes it there, or writes
	// nothing and the filter holds one state too many, which costs a read, never a miss).
	if f := w.filters[newest]; f != nil {
		f.add(h)
	}
	if w.legacy {
		pfx := legacyMsg
		if kind == windowCall {
			pfx = legacyCall
		}
		found, err := txn.get(key(pfx, tenant, id), decode)
		if err != nil || found {
			// Rewritten into the window, so the legacy copy is read at most until it expires.
			return openState{key: windowKey(w.newest(), kind, tenant, id), found: found}, err
		}
	}
	return openState{key: windowKey(w.newest(), kind, tenant, id)}, nil
}

// due says whether the watermark left a segment behind since the last sweep.
func (w *window) due() bool { return w.oldestLive() > w.swept }

// sweep drops every segment below the live ones. DropPrefix removes whole tables and
// rewrites only those that straddle a segment's edge: no tombstone per state.
func (w *window) sweep(st *state.Store) error {
	below := w.oldestLive()
	var pfxs [][]byte
	for from := []byte(pfxWindow); ; {
		k, ok, err := st.Seek([]byte(pfxWindow), from)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if len(k) < len(pfxWindow)+4 {
			return fmt.Errorf("%w: window key %q", ErrCorrupt, k)
		}
		seg := binary.BigEndian.Uint32(k[len(pfxWindow):])
		if seg >= below {
			break
		}
		pfxs = append(pfxs, segmentPrefix(seg))
		from = segmentPrefix(seg + 1)
	}
	if len(pfxs) > 0 {
		if err := st.DropPrefix(pfxs...); err != nil {
			return err
		}
	}
	for seg := range w.filters {
		if seg < below {
			delete(w.filters, seg)
		}
	}
	w.swept = below
	return nil
}

func segmentPrefix(seg uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte(pfxWindow), seg)
}

// load reads the watermark and whether legacy state is present.
func (w *window) load(st *state.Store) error {
	_, err := st.Get([]byte(watermarkKey), func(v []byte) error {
		if len(v) != 8 {
			return fmt.Errorf("%w: watermark of %d bytes", ErrCorrupt, len(v))
		}
		w.watermark = int64(binary.BigEndian.Uint64(v))
		return nil
	})
	if err != nil {
		return err
	}
	for _, pfx := range []string{legacyMsg, legacyCall} {
		_, found, err := st.Seek([]byte(pfx), []byte(pfx))
		if err != nil {
			return err
		}
		w.legacy = w.legacy || found
	}
	return w.loadFilters(st)
}

// loadFilters reads the filter each closed live segment was given when it closed, and builds
// the others (the newest; any segment an older version wrote) from their keys.
func (w *window) loadFilters(st *state.Store) error {
	w.filters = map[uint32]*segmentFilter{}
	newest := w.newest()
	prev := 0
	for seg := w.oldestLive(); seg <= newest; seg++ {
		var f *segmentFilter
		found, err := st.Get(filterKey(seg), func(v []byte) error {
			var err error
			f, err = decodeSegmentFilter(v)
			return err
		})
		if err != nil {
			return err
		}
		if !found || seg == newest {
			if f, err = w.buildFilter(st, seg, seg == newest, prev); err != nil {
				return err
			}
		}
		w.filters[seg] = f
		prev = f.n
	}
	return nil
}

// buildFilter reads the keys of one segment into a new filter, with room to grow for the
// newest (twice its states or the previous segment's, whichever is more).
func (w *window) buildFilter(st *state.Store, seg uint32, growing bool, prev int) (*segmentFilter, error) {
	var hashes []uint64
	pfx := segmentPrefix(seg)
	err := st.ScanKeys(pfx, func(k []byte) error {
		rest := k[len(pfx):]
		if len(rest) == 0 || rest[0] == filterKind {
			return nil
		}
		tenant, id, _ := strings.Cut(string(rest[1:]), "\x00")
		hashes = append(hashes, stateHash(rest[0], tenant, id))
		return nil
	})
	if err != nil {
		return nil, err
	}
	capacity := len(hashes)
	if growing {
		capacity = max(minFilterStates, 2*len(hashes), 2*prev)
	}
	f := newSegmentFilter(capacity)
	for _, h := range hashes {
		f.add(h)
	}
	return f, nil
}

// saveWatermark puts the watermark into the batch it covers.
func (w *window) saveWatermark(st *state.Store) {
	st.Set([]byte(watermarkKey), binary.BigEndian.AppendUint64(nil, uint64(w.watermark)))
}
