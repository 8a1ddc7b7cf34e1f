package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/ristretto/v2/z"
	"github.com/sourcegraph/conc/panics"
)

// errCorruptState marks an open failure that the state's own files caused (a bad MANIFEST,
// a torn table, a garbled key registry), as opposed to the host: a lock another worker
// holds, permissions, a full or read-only disk. Only the first is repaired by starting over.
var errCorruptState = errors.New("the state is corrupt")

// openOrRebuildState opens the state in dir; when its files are corrupt it moves the
// directory aside (kept, renamed with the time, for a post-mortem or a manual restore), says
// so loudly and opens a fresh state in dir. A fresh state is what a new worker starts with:
// it reads the whole identity topic before it joins the group, so it resolves every contact
// the group published; what only this state held (open messages and calls, whose later
// statuses then count without their attribution) is what the corruption cost. Without this a
// corrupt state stopped the worker at every start, forever.
func openOrRebuildState(dir string, log *slog.Logger) (*badger.DB, error) {
	db, err := openState(dir)
	if err == nil || !errors.Is(err, errCorruptState) {
		return db, err
	}
	// Held across the rename: a directory another worker has opened since is never moved.
	unlock, lerr := lockDir(dir)
	if lerr != nil {
		return nil, err
	}
	defer unlock()
	aside := fmt.Sprintf("%s.corrupt-%s", filepath.Clean(dir), time.Now().UTC().Format("20060102T150405.000Z"))
	if rerr := os.Rename(dir, aside); rerr != nil {
		return nil, fmt.Errorf("%w; moving it aside to %s failed: %v", err, aside, rerr)
	}
	log.Error("the state directory is corrupt: moved aside and kept; starting with a fresh state, rebuilt from the identity topic",
		"state_dir", dir, "moved_to", aside, "err", err.Error())
	return openState(dir)
}

// corruption wraps err in errCorruptState unless the host, not the files, is to blame.
func corruption(err error) error {
	if err == nil || hostFault(err) {
		return err
	}
	return fmt.Errorf("%w: %w", errCorruptState, err)
}

// hostFault says whether an open failure comes from outside the state's bytes: moving a
// directory aside cannot cure those, and a lock means another worker is using it.
func hostFault(err error) bool {
	if strings.Contains(err.Error(), "Cannot acquire directory lock") {
		return true
	}
	for _, errno := range []syscall.Errno{syscall.EACCES, syscall.EPERM, syscall.EROFS, syscall.ENOSPC,
		syscall.EDQUOT, syscall.EIO, syscall.EMFILE, syscall.ENFILE, syscall.ENOMEM, syscall.EAGAIN, syscall.EBUSY} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

// checkTables opens every table of the state as Badger's open does, on this goroutine:
// Badger opens them on goroutines of its own, where a torn table panics (out of range
// while reading its index) and takes the process down before any error is returned.
// Each table is read with the compression its manifest entry names, as Badger does: tables
// of earlier versions are Snappy, today's are not compressed.
func checkTables(dir string, opts badger.Options) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.sst"))
	if err != nil {
		return err
	}
	compression := tableCompression(dir, opts)
	for _, name := range files {
		c := opts.Compression
		if id, ok := table.ParseFileID(name); ok {
			if tc, listed := compression[id]; listed {
				c = tc
			}
		}
		if err := checkTable(name, opts, c); err != nil {
			return fmt.Errorf("table %s: %w", filepath.Base(name), err)
		}
	}
	return nil
}

// tableCompression is each table's compression as the manifest records it. An unreadable
// manifest gives none: Badger's own open then says what is wrong with it.
func tableCompression(dir string, opts badger.Options) map[uint64]options.CompressionType {
	fp, err := os.Open(filepath.Join(dir, badger.ManifestFilename))
	if err != nil {
		return nil
	}
	defer fp.Close()
	m, _, err := badger.ReplayManifestFile(fp, opts.ExternalMagicVersion, opts)
	if err != nil {
		return nil
	}
	out := make(map[uint64]options.CompressionType, len(m.Tables))
	for id, t := range m.Tables {
		out[id] = t.Compression
	}
	return out
}

func checkTable(name string, opts badger.Options, compression options.CompressionType) (err error) {
	mf, err := z.OpenMmapFile(name, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	var t *table.Table
	if r := panics.Try(func() {
		t, err = table.OpenTable(mf, table.Options{ReadOnly: true, BlockSize: opts.BlockSize,
			Compression: compression, ChkMode: options.NoVerification})
	}); r != nil {
		_ = mf.Close(-1)
		return fmt.Errorf("unreadable: %v", r.Value)
	}
	if err != nil {
		return err // OpenTable closed the file
	}
	return t.MmapFile.Close(-1) // not t.DecrRef, which deletes the file at the last reference
}

// lockDir takes the lock Badger takes on its directory (flock of the directory itself), so
// that the state is read, and moved, only when no other worker has it open.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another worker is using it: %w", err)
	}
	return func() { f.Close() }, nil // closing the last descriptor releases the lock
}
