package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"
)

// syncState makes every write the state has taken so far survive a power loss. Badger runs
// with SyncWrites off (a sync per transaction would cost more than resolving an event), so
// this runs once a batch, before the batch's offsets may be committed to Kafka: the state is
// then never behind what Kafka says is done.
//
// db.Sync covers the active memtable's write-ahead file and the value log only. A memtable
// rotated out and not yet written as a table keeps its own write-ahead file (*.mem), which
// nothing syncs, so those are synced here too; fsync on Linux writes a file's dirty pages
// back, those made through Badger's mmap included. A file flushed and removed meanwhile has
// its data in a table Badger synced itself.
func syncState(db *badger.DB, dir string) error {
	if err := db.Sync(); err != nil {
		return fmt.Errorf("sync the state: %w", err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.mem"))
	if err != nil {
		return err
	}
	for _, name := range files {
		if err := syncFile(name); err != nil {
			return fmt.Errorf("sync the state: %w", err)
		}
	}
	return nil
}

func syncFile(name string) error {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
