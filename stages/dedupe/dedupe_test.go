package dedupe

import (
	"testing"

	"github.com/dgraph-io/badger/v4"
)

func open(t *testing.T, dir string) *badger.DB {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func seen(t *testing.T, s *Set, key string) bool {
	t.Helper()
	ok, err := s.Seen(key)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// A key in flight counts as seen; after a crash before durability it is new again, so the
// redelivered webhook is processed rather than lost.
func TestHeldKeysAreNotRememberedAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir)
	s := New(db, 0)
	s.Hold("wamid.1")
	if !seen(t, s, "wamid.1") {
		t.Fatal("a key in flight must count as seen")
	}
	db.Close() // crash before the rows were durable

	db = open(t, dir)
	defer db.Close()
	if seen(t, New(db, 0), "wamid.1") {
		t.Fatal("a key never made durable must not survive a restart")
	}
}

func TestRememberedKeysSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir)
	s := New(db, 0)
	s.Hold("wamid.2|delivered")
	if err := s.Remember([]string{"wamid.2|delivered"}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = open(t, dir)
	defer db.Close()
	s = New(db, 0)
	if !seen(t, s, "wamid.2|delivered") {
		t.Fatal("a durable key must be seen after restart")
	}
	if seen(t, s, "wamid.2|read") {
		t.Fatal("another status of the same message is a different event")
	}
}
