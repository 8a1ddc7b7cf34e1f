package identity

import (
	"encoding/binary"
	"fmt"

	"github.com/wapipe/wapipe/state"
)

// What erase.go keeps in the state, in one file so that a change of the storage below the
// store touches only this:
//
//	id/f/<tenant>\x00<id> -> cut (varint): a tombstone, an erasure that came before its contact
//
// Like every write of an event, these reach the state when the erasure's event finishes
// and Badger with its batch's checkpoint. The worker repeats an erasure in ClickHouse before
// that checkpoint (cmd/wapipe/forget_worker.go), so a stop in between loses the applied
// erasure with the rest of the batch's state, and the identity topic's erasure record,
// read again, applies it and repeats it once more: nothing else needs to be kept.

const tombstonePfx = prefix + "f/"

// setTombstone remembers an erasure of a contact this store does not know yet.
func (w *work) setTombstone(tenant, id string, cut int64) error {
	w.s.tombstones = true // before the write: a set flag only costs reads
	w.set(tombstoneKey(tenant, id), binary.AppendVarint(nil, cut))
	return nil
}

func tombstoneKey(tenant, id string) []byte {
	return append(append(append([]byte(tombstonePfx), tenant...), 0), id...)
}

// mergedGroup lists the contacts merged into survivor, directly or through a chain of
// merges (bounded as in Rows), including merges made by earlier events of this round
// (they are in the state once their event finished).
func (w *work) mergedGroup(tenant, survivor string) ([]string, error) {
	var out []string
	next := []string{survivor}
	for depth := 0; len(next) > 0 && depth < 8; depth++ {
		var found []string
		for _, id := range next {
			pfx := mergedPrefix(tenant, id)
			err := w.s.st.ScanKeys(pfx, func(k []byte) error {
				found = append(found, string(k[len(pfx):]))
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
		out, next = append(out, found...), found
	}
	return out, nil
}

// tombstone returns the cut of an erasure that arrived before the contact did, or 0.
func (w *work) tombstone(tenant, id string) (int64, error) {
	if !w.s.tombstones {
		return 0, nil
	}
	var cut int64
	_, err := w.s.st.Get(tombstoneKey(tenant, id), func(v []byte) error {
		d := reader{s: string(v)}
		if cut = d.varint(); d.err {
			return fmt.Errorf("%w: tombstone of %s/%s", ErrCorrupt, tenant, id)
		}
		return nil
	})
	return cut, err
}

// unpoint removes a key's index entry; "" in the working set and the cache says "no such key".
func (w *work) unpoint(code byte, value, tenant string) error {
	ik := indexKey(code, value, tenant)
	w.index[string(ik)] = ""
	w.remove(ik)
	return nil
}

// hasPrefix says whether st holds a key under pfx; an error reads as yes, which only costs reads.
func hasPrefix(st *state.Store, pfx string) bool {
	_, found, err := st.Seek([]byte(pfx), []byte(pfx))
	return found || err != nil
}
