// Package gencache is a two-generation approximation of an LRU for the worker's hot state
// (cached contacts, report state). Entries live in the current generation; when it is full
// it becomes the old one and a fresh generation starts; a hit in the old generation is
// copied to the current one. It holds at most limit entries, costs no allocation per hit
// and no list bookkeeping, and forgets what was not used during the last two generations.
// Not safe for concurrent use: its owner's mutex guards it. A nil *Cache holds nothing.
package gencache

// Cache maps string keys to values of type V.
type Cache[V any] struct {
	half     int
	cur, old map[string]V
}

// New returns a cache of at most limit entries, or nil (a cache that holds nothing) when
// limit is not positive.
func New[V any](limit int) *Cache[V] {
	if limit <= 0 {
		return nil
	}
	half := max(limit/2, 1)
	return &Cache[V]{half: half, cur: make(map[string]V, half)}
}

// Get looks k up; the []byte key is converted without an allocation.
func (c *Cache[V]) Get(k []byte) (V, bool) {
	var zero V
	if c == nil {
		return zero, false
	}
	if v, ok := c.cur[string(k)]; ok {
		return v, true
	}
	if v, ok := c.old[string(k)]; ok {
		c.Put(string(k), v)
		return v, true
	}
	return zero, false
}

// Put sets k to v, starting a new generation when the current one is full.
func (c *Cache[V]) Put(k string, v V) {
	if c == nil {
		return
	}
	if _, ok := c.cur[k]; !ok && len(c.cur) >= c.half {
		c.old, c.cur = c.cur, make(map[string]V, c.half)
	}
	c.cur[k] = v
}
