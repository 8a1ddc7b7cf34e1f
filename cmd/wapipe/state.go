package main

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// The worker's own bookkeeping in its Badger state, beside the stages' data: its id and
// how far it has read the identity topic. Keeping them with the identity store means a
// worker restarted with its state resumes where it stopped, and a worker given a fresh
// state dir is a new worker that reads the identity topic from the beginning.
const (
	workerIDKey    = "wk/id"
	replicaOffsets = "wk/offsets/" // + topic NUL partition -> next offset (uvarint)
)

// workerID returns the id stored in db, creating one the first time.
func workerID(db *badger.DB) (string, error) {
	var id string
	err := db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(workerIDKey))
		if err == nil {
			v, err := item.ValueCopy(nil)
			id = string(v)
			return err
		}
		if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		id = "w_" + hex.EncodeToString(b[:])
		return txn.Set([]byte(workerIDKey), []byte(id))
	})
	return id, err
}

// stateOffsets implements pipeline.OffsetStore on the worker's Badger state.
type stateOffsets struct{ db *badger.DB }

func (s stateOffsets) Load(topic string) (map[int]int64, error) {
	out := map[int]int64{}
	pfx := []byte(replicaOffsets + topic + "\x00")
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: pfx})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			p, err := strconv.Atoi(strings.TrimPrefix(string(it.Item().Key()), string(pfx)))
			if err != nil {
				return fmt.Errorf("offset key %q: %w", it.Item().Key(), err)
			}
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			next, n := binary.Uvarint(v)
			if n <= 0 {
				return fmt.Errorf("offset of %s/%d: bad value", topic, p)
			}
			out[p] = int64(next)
		}
		return nil
	})
	return out, err
}

func (s stateOffsets) Save(topic string, offsets map[int]int64) error {
	return s.db.Update(func(txn *badger.Txn) error {
		for p, next := range offsets {
			key := fmt.Sprintf("%s%s\x00%d", replicaOffsets, topic, p)
			if err := txn.Set([]byte(key), binary.AppendUvarint(nil, uint64(next))); err != nil {
				return err
			}
		}
		return nil
	})
}
