package main

import (
	"io/fs"
	"path/filepath"
	"testing"
)

// The state holds phone numbers: its directory must be 0700 and its files 0600 whatever
// the umask, so no other user of the host can read them.
func TestStateIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	db, err := openState(dir)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, info.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
