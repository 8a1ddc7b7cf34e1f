package dedupe

import "math/bits"

// generation is one generation of remembered keys: an open-addressing table of 128-bit keys
// with linear probing, allocated once at twice its capacity or more (so probes stay short)
// and emptied in place when the generations trade places. It is 16 bytes a slot and holds no
// pointers, where a Go map of the same keys took about 55 bytes a key.
type generation struct {
	slots []Key
	mask  uint64
	n     int
}

// empty marks a free slot; a key that hashes to it is stored as emptyStandIn, which makes
// the two one key (a false "seen" needing a collision of 128-bit hashes all the same).
var (
	empty        = Key{}
	emptyStandIn = Key{0, 1}
)

func newGeneration(capacity int) *generation {
	size := 1 << bits.Len(uint(2*capacity-1)) // the power of two at or above 2 x capacity
	return &generation{slots: make([]Key, size), mask: uint64(size - 1)}
}

func (g *generation) has(k Key) bool {
	if k == empty {
		k = emptyStandIn
	}
	for i := k[0] & g.mask; ; i = (i + 1) & g.mask {
		switch g.slots[i] {
		case k:
			return true
		case empty:
			return false
		}
	}
}

func (g *generation) add(k Key) {
	if k == empty {
		k = emptyStandIn
	}
	for i := k[0] & g.mask; ; i = (i + 1) & g.mask {
		switch g.slots[i] {
		case k:
			return
		case empty:
			g.slots[i] = k
			g.n++
			return
		}
	}
}

func (g *generation) reset() {
	clear(g.slots)
	g.n = 0
}
