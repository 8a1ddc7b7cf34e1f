package identity

import "github.com/wapipe/wapipe/internal/gencache"

// cache is what a Store remembers between transactions. It is written only after a
// commit succeeds, so it never holds state Badger does not have.
type cache struct {
	contacts *gencache.Cache[*record] // contactKey -> decoded record, never changed once cached
	index    *gencache.Cache[string]  // indexKey -> contact id
}

func newCache(contacts int) cache {
	if contacts <= 0 {
		return cache{}
	}
	return cache{contacts: gencache.New[*record](contacts), index: gencache.New[string](3 * contacts)}
}
