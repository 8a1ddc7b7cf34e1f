package identity

// genCache is a two-generation approximation of an LRU: entries live in cur; when cur
// is full it becomes old and a fresh cur starts; a hit in old is copied to cur. It
// holds at most limit entries, costs no allocation per hit and no list bookkeeping,
// and forgets what was not used during the last two generations. Not safe for
// concurrent use: the Store's mutex guards it.
type genCache[V any] struct {
	half     int
	cur, old map[string]V
}

func newGenCache[V any](limit int) *genCache[V] {
	if limit <= 0 {
		return nil
	}
	half := max(limit/2, 1)
	return &genCache[V]{half: half, cur: make(map[string]V, half)}
}

func (c *genCache[V]) get(k []byte) (V, bool) {
	var zero V
	if c == nil {
		return zero, false
	}
	if v, ok := c.cur[string(k)]; ok {
		return v, true
	}
	if v, ok := c.old[string(k)]; ok {
		c.put(string(k), v)
		return v, true
	}
	return zero, false
}

func (c *genCache[V]) put(k string, v V) {
	if c == nil {
		return
	}
	if _, ok := c.cur[k]; !ok && len(c.cur) >= c.half {
		c.old, c.cur = c.cur, make(map[string]V, c.half)
	}
	c.cur[k] = v
}

// cache is what a Store remembers between transactions. It is written only after a
// commit succeeds, so it never holds state Badger does not have.
type cache struct {
	contacts *genCache[*record] // contactKey -> decoded record, never changed once cached
	index    *genCache[string]  // indexKey -> contact id
}

func newCache(contacts int) cache {
	if contacts <= 0 {
		return cache{}
	}
	return cache{contacts: newGenCache[*record](contacts), index: newGenCache[string](3 * contacts)}
}
