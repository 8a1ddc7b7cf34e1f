package report

import (
	"encoding/binary"
	"fmt"

	"github.com/cespare/xxhash/v2"
)

// Most lookups in the window are of messages and calls that do not exist yet: every new
// message is looked for in each live segment before it is known to be new, and each look is a
// Badger read (memtables, then the levels' Bloom filters). So the window keeps a Bloom filter of
// each live segment's states and reads only the segments whose filter may hold the state.
//
// Only the newest segment receives new states (window.lookup writes there), so a segment's key
// set is final once the watermark has moved past it: its filter is written into the segment
// itself at that moment (key pfxWindow, segment, filterKind) and read back at start. The newest
// segment's filter is rebuilt at start from its keys, one day of them. A filter never forgets a
// key it was given, so a state is never missed; a filter fuller than it was sized for answers
// "maybe" for every key (only the saving is lost).

const (
	filterKind       = 'f' // after the segment in a key: the segment's filter
	bitsPerState     = 10  // about 1% false positives with filterHashes
	filterHashes     = 7
	minFilterStates  = 1 << 14
	filterFormat     = 1
	maxFilterStates  = 1 << 28 // a decode guard
	filterHeaderSize = 1 + 8 + 8
)

// segmentFilter is the Bloom filter of one segment's states.
type segmentFilter struct {
	bits     []uint64
	n        int // states added
	capacity int // states it was sized for; beyond it every answer is "maybe"
}

func newSegmentFilter(capacity int) *segmentFilter {
	words := (max(capacity, 1)*bitsPerState + 63) / 64
	return &segmentFilter{bits: make([]uint64, words), capacity: capacity}
}

// stateHash hashes what identifies a state whatever its segment: kind, tenant, id.
func stateHash(kind byte, tenant, id string) uint64 {
	d := xxhash.New()
	d.Write([]byte{kind})
	d.WriteString(tenant)
	d.Write([]byte{0})
	d.WriteString(id)
	return d.Sum64()
}

func (f *segmentFilter) add(h uint64) {
	m := uint64(len(f.bits) * 64)
	h1, h2 := h, h>>32|h<<32
	for i := uint64(0); i < filterHashes; i++ {
		b := (h1 + i*h2) % m
		f.bits[b/64] |= 1 << (b % 64)
	}
	f.n++
}

func (f *segmentFilter) mayHold(h uint64) bool {
	if f.n > f.capacity {
		return true
	}
	if f.n == 0 {
		return false
	}
	m := uint64(len(f.bits) * 64)
	h1, h2 := h, h>>32|h<<32
	for i := uint64(0); i < filterHashes; i++ {
		b := (h1 + i*h2) % m
		if f.bits[b/64]&(1<<(b%64)) == 0 {
			return false
		}
	}
	return true
}

func (f *segmentFilter) encode() []byte {
	b := make([]byte, 0, filterHeaderSize+8*len(f.bits))
	b = append(b, filterFormat)
	b = binary.BigEndian.AppendUint64(b, uint64(f.n))
	b = binary.BigEndian.AppendUint64(b, uint64(f.capacity))
	for _, w := range f.bits {
		b = binary.BigEndian.AppendUint64(b, w)
	}
	return b
}

func decodeSegmentFilter(b []byte) (*segmentFilter, error) {
	if len(b) < filterHeaderSize || b[0] != filterFormat || (len(b)-filterHeaderSize)%8 != 0 {
		return nil, fmt.Errorf("%w: segment filter of %d bytes", ErrCorrupt, len(b))
	}
	n, capacity := binary.BigEndian.Uint64(b[1:]), binary.BigEndian.Uint64(b[9:])
	words := (len(b) - filterHeaderSize) / 8
	if n > maxFilterStates || capacity > maxFilterStates || words != (max(int(capacity), 1)*bitsPerState+63)/64 {
		return nil, fmt.Errorf("%w: segment filter of %d states", ErrCorrupt, n)
	}
	f := &segmentFilter{bits: make([]uint64, words), n: int(n), capacity: int(capacity)}
	for i := range f.bits {
		f.bits[i] = binary.BigEndian.Uint64(b[filterHeaderSize+8*i:])
	}
	return f, nil
}

func filterKey(seg uint32) []byte { return append(segmentPrefix(seg), filterKind) }
