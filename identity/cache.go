package identity

import "github.com/wapipe/wapipe/internal/gencache"

// cache is what a Store remembers between rounds: contacts as the state holds them now,
// checkpointed or not. A failed call clears it (Store.abort) together with the state's
// open changes, so it never holds what the state does not.
type cache struct {
	limit    int
	contacts *gencache.Cache[*record] // contactKey -> decoded record, never changed once cached
	index    *gencache.Cache[string]  // indexKey -> contact id
}

func newCache(contacts int) cache {
	if contacts <= 0 {
		return cache{}
	}
	return cache{limit: contacts, contacts: gencache.New[*record](contacts), index: gencache.New[string](3 * contacts)}
}

func (c cache) size() int { return c.limit }
