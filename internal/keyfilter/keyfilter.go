// Package keyfilter is a Bloom filter of the keys stored under one Badger prefix. Most
// lookups on the worker's hot path are of keys that were never written (a new event, a new
// message), and a Badger lookup of a missing key still walks every memtable and level; the
// filter answers "never written" from memory (about 1.2 bytes a key at 1% false positives),
// so only keys it may hold are read.
//
// What it promises: it never denies a key that was loaded or added. Keys deleted or expired
// since stay in it until the next Load, which costs a lookup, not a wrong answer. Not safe
// for concurrent use: its owner's mutex guards it. Keys are given without the prefix.
package keyfilter

import (
	"github.com/bits-and-blooms/bloom/v3"
	"github.com/dgraph-io/badger/v4"
)

// MinKeys is the smallest capacity of a filter (about 1.2 MB); a variable so that a test
// can make filters fill up and reload often.
var MinKeys uint = 1 << 20

// Filter holds the keys under one prefix, approximately.
type Filter struct {
	f        *bloom.BloomFilter
	capacity uint
	added    uint
}

// Load builds the filter from the keys stored in db under prefix, with room to double. It
// reads the keys twice, once to count them and once to add them, so that it never holds them
// all: a copy of 4 million keys was a few hundred MB at the moment of the reload.
func Load(db *badger.DB, prefix string) (*Filter, error) {
	var stored uint
	if err := eachKey(db, prefix, func([]byte) { stored++ }); err != nil {
		return nil, err
	}
	// The second pass reads a snapshot no older than the first, so the filter holds what
	// one pass would have held; its owner keeps writes out while it loads, as before.
	f := &Filter{capacity: max(MinKeys, 2*stored)}
	f.f = bloom.NewWithEstimates(f.capacity, 0.01)
	err := eachKey(db, prefix, func(k []byte) { f.f.Add(k); f.added++ })
	if err != nil {
		return nil, err
	}
	return f, nil
}

// eachKey calls fn with every key under prefix, without the prefix; the slice is valid only
// during the call.
func eachKey(db *badger.DB, prefix string, fn func(k []byte)) error {
	return db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			fn(it.Item().Key()[len(prefix):])
		}
		return nil
	})
}

// MayHold says whether k may have been stored; false means it never was.
func (f *Filter) MayHold(k []byte) bool { return f.f.Test(k) }

// MayHoldString is MayHold for a string key.
func (f *Filter) MayHoldString(k string) bool { return f.f.TestString(k) }

// Add records k, before or as it is stored.
func (f *Filter) Add(k []byte) { f.f.Add(k); f.added++ }

// AddString is Add for a string key.
func (f *Filter) AddString(k string) { f.f.AddString(k); f.added++ }

// Full says the filter holds more keys than it was sized for (false positives grow): time
// to Load it again, which drops expired keys and doubles the room.
func (f *Filter) Full() bool { return f.added > f.capacity }
