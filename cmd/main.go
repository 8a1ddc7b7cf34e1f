package main

import (
	"fmt"
	"os"
	"sort"

	badger "github.com/dgraph-io/badger/v4"
)

func main() {
	db, err := badger.Open(badger.DefaultOptions(os.Args[1]).WithReadOnly(false).WithLogger(nil).WithValueThreshold(256 << 10).WithMemTableSize(8<<20).WithNumMemtables(2))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	type agg struct{ n, kb, vb int }
	m := map[string]*agg{}
	db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			p := string(k[:min(5, len(k))])
			a := m[p]
			if a == nil {
				a = &agg{}
				m[p] = a
			}
			a.n++
			a.kb += len(k)
			a.vb += int(it.Item().ValueSize())
		}
		return nil
	})
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for _, k := range ks {
		a := m[k]
		fmt.Printf("%-8q %9d keys %8.1f MB keys %8.1f MB values\n", k, a.n, float64(a.kb)/1e6, float64(a.vb)/1e6)
	}
	lsm, vlog := db.Size()
	fmt.Printf("lsm %.1f MB vlog %.1f MB\n", float64(lsm)/1e6, float64(vlog)/1e6)
}
