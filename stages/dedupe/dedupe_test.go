package dedupe

import (
	"fmt"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/wapipe/wapipe/internal/keyfilter"
)

func open(t *testing.T, dir string) *badger.DB {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func newSet(tb testing.TB, db *badger.DB) *Set {
	tb.Helper()
	s, err := New(db, 0)
	if err != nil {
		tb.Fatal(err)
	}
	return s
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
	s := newSet(t, db)
	s.Hold("wamid.1")
	if !seen(t, s, "wamid.1") {
		t.Fatal("a key in flight must count as seen")
	}
	db.Close() // crash before the rows were durable

	db = open(t, dir)
	defer db.Close()
	if seen(t, newSet(t, db), "wamid.1") {
		t.Fatal("a key never made durable must not survive a restart")
	}
}

func TestRememberedKeysSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir)
	s := newSet(t, db)
	s.Hold("wamid.2|delivered")
	if err := s.Remember([]string{"wamid.2|delivered"}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = open(t, dir)
	defer db.Close()
	s = newSet(t, db)
	if !seen(t, s, "wamid.2|delivered") {
		t.Fatal("a durable key must be seen after restart")
	}
	if seen(t, s, "wamid.2|read") {
		t.Fatal("another status of the same message is a different event")
	}
}

// The filter in front of Badger never hides a remembered key: not while keys pour in past
// its capacity (it rebuilds), and not after a restart (it is rebuilt from what is stored).
func TestFilterNeverForgetsARememberedKey(t *testing.T) {
	defer func(n uint) { keyfilter.MinKeys = n }(keyfilter.MinKeys)
	keyfilter.MinKeys = 16
	dir := t.TempDir()
	db := open(t, dir)
	s := newSet(t, db)
	for batch := range 20 {
		var keys []string
		for i := range 10 {
			k := fmt.Sprintf("wamid.%d.%d", batch, i)
			s.Hold(k)
			keys = append(keys, k)
		}
		if err := s.Remember(keys); err != nil {
			t.Fatal(err)
		}
		for b := 0; b <= batch; b++ {
			if !seen(t, s, fmt.Sprintf("wamid.%d.9", b)) {
				t.Fatalf("after batch %d, a key of batch %d is not seen", batch, b)
			}
		}
	}
	db.Close()
	db = open(t, dir)
	defer db.Close()
	s = newSet(t, db)
	for b := range 20 {
		for i := range 10 {
			if !seen(t, s, fmt.Sprintf("wamid.%d.%d", b, i)) {
				t.Fatalf("after restart, wamid.%d.%d is not seen", b, i)
			}
		}
	}
	if seen(t, s, "wamid.new") {
		t.Fatal("a key never remembered is seen")
	}
}
