package dedupe

import (
	"github.com/bits-and-blooms/bloom/v3"
	"github.com/dgraph-io/badger/v4"
)

// Most events are new, and a Badger lookup of a key that is not there still walks every
// level. A Bloom filter of the remembered keys answers "never remembered" from memory
// (about 1.2 bytes a key at 1% false positives), so only the keys it may hold are read.
// It never forgets a remembered key: keys enter it in Remember before their hold is
// released. Expired keys stay in it until the next rebuild, which costs a lookup, not
// a wrong answer.

// minFilterKeys is the smallest capacity of the filter (about 1.2 MB); a variable so
// that a test can make the filter rebuild often.
var minFilterKeys uint = 1 << 20

type filter struct {
	f        *bloom.BloomFilter
	capacity uint
	added    uint
}

// loadFilter builds the filter from the keys stored in db, with room to double.
func loadFilter(db *badger.DB) (filter, error) {
	var keys [][]byte
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			keys = append(keys, it.Item().KeyCopy(nil)[len(prefix):])
		}
		return nil
	})
	if err != nil {
		return filter{}, err
	}
	f := filter{capacity: max(minFilterKeys, 2*uint(len(keys)))}
	f.f = bloom.NewWithEstimates(f.capacity, 0.01)
	for _, k := range keys {
		f.f.Add(k)
	}
	f.added = uint(len(keys))
	return f, nil
}

// full says the filter holds more keys than it was sized for (false positives grow).
func (f *filter) full() bool { return f.added > f.capacity }
