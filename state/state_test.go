package state

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	badger "github.com/dgraph-io/badger/v4"
)

func openDB(t *testing.T, dir string) *badger.DB {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func value(t *testing.T, s *Store, key string) (string, bool) {
	t.Helper()
	var v string
	found, err := s.Get([]byte(key), func(b []byte) error { v = string(b); return nil })
	if err != nil {
		t.Fatal(err)
	}
	return v, found
}

// A batch reaches Badger only at its Checkpoint; a stop before it loses that batch and no other.
func TestOnlyCheckpointedBatchesSurviveAStop(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	s := Open(db)
	s.Set([]byte("a"), []byte("1"))
	s.Seal()
	s.Set([]byte("a"), []byte("2"))
	s.Set([]byte("b"), []byte("2"))
	if v, _ := value(t, s, "a"); v != "2" {
		t.Fatalf("a = %q before any checkpoint, want the newest change 2", v)
	}
	if err := s.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	s.Seal() // the second batch is sealed, its rows never became durable
	db.Close()

	s = Open(openDB(t, dir))
	defer s.DB().Close()
	if v, ok := value(t, s, "a"); !ok || v != "1" {
		t.Fatalf("after a stop a = %q (found %v), want the checkpointed 1", v, ok)
	}
	if _, ok := value(t, s, "b"); ok {
		t.Fatal("b of the batch that was never checkpointed survived the stop")
	}
}

func TestReadsSeeChangesBeforeAndAfterTheirCheckpoint(t *testing.T) {
	s := Open(openDB(t, t.TempDir()))
	defer s.DB().Close()
	s.Set([]byte("k"), []byte("v1"))
	s.Seal()
	s.Delete([]byte("k"))
	if _, ok := value(t, s, "k"); ok {
		t.Fatal("k still found after its deletion")
	}
	s.Seal()
	for i := 0; i < 2; i++ {
		if err := s.Checkpoint(); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := value(t, s, "k"); ok {
		t.Fatal("k found after both batches were checkpointed")
	}
	if n := s.Sealed(); n != 0 {
		t.Fatalf("%d batches still sealed", n)
	}
}

func TestScanMergesMemoryAndBadgerInKeyOrder(t *testing.T) {
	s := Open(openDB(t, t.TempDir()))
	defer s.DB().Close()
	for _, k := range []string{"p/a", "p/c", "p/e", "q/x"} {
		s.Set([]byte(k), []byte("old"))
	}
	s.Seal()
	if err := s.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	s.Set([]byte("p/b"), []byte("new"))
	s.Set([]byte("p/c"), []byte("new"))
	s.Delete([]byte("p/e"))
	var got []string
	err := s.Scan([]byte("p/"), func(k, v []byte) error { got = append(got, string(k)+"="+string(v)); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if want := "p/a=old p/b=new p/c=new"; strings.Join(got, " ") != want {
		t.Fatalf("scan = %q, want %q", strings.Join(got, " "), want)
	}
}

func TestDiscardForgetsOnlyTheOpenBatch(t *testing.T) {
	s := Open(openDB(t, t.TempDir()))
	defer s.DB().Close()
	s.Set([]byte("kept"), []byte("1"))
	s.Seal()
	s.Set([]byte("lost"), []byte("1"))
	s.Discard()
	if _, ok := value(t, s, "lost"); ok {
		t.Fatal("a discarded change is still read")
	}
	if _, ok := value(t, s, "kept"); !ok {
		t.Fatal("a sealed change was discarded")
	}
}

func TestDropPrefixRemovesPendingAndWrittenKeys(t *testing.T) {
	s := Open(openDB(t, t.TempDir()))
	defer s.DB().Close()
	s.Set([]byte("w/1/a"), []byte("x"))
	s.Seal()
	if err := s.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	s.Set([]byte("w/1/b"), []byte("x"))
	s.Set([]byte("w/2/a"), []byte("x"))
	s.Seal()
	if err := s.DropPrefix([]byte("w/1/")); err != nil {
		t.Fatal(err)
	}
	if err := s.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]bool{"w/1/a": false, "w/1/b": false, "w/2/a": true} {
		if _, ok := value(t, s, key); ok != want {
			t.Errorf("%s found = %v, want %v", key, ok, want)
		}
	}
}

// GetCheckpointed reads what Badger holds: never a change of a sealed batch not yet
// checkpointed, nor of the open one.
func TestGetCheckpointedSeesOnlyCheckpointedChanges(t *testing.T) {
	s := Open(openDB(t, t.TempDir()))
	defer s.DB().Close()
	checkpointed := func(key string) string {
		var v string
		if _, err := s.GetCheckpointed([]byte(key), func(b []byte) error { v = string(b); return nil }); err != nil {
			t.Fatal(err)
		}
		return v
	}
	s.Set([]byte("k"), []byte("checkpointed"))
	s.Seal()
	if err := s.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	s.Set([]byte("k"), []byte("batch 2"))
	s.Seal()
	s.Set([]byte("k"), []byte("open"))
	if got := checkpointed("k"); got != "checkpointed" {
		t.Fatalf("checkpointed view %q, want what Badger holds", got)
	}
	if err := s.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	if got := checkpointed("k"); got != "batch 2" {
		t.Fatalf("after its checkpoint the view is %q, want the batch's", got)
	}
}

// The batches kept in memory after their checkpoint answer reads as Badger would: through
// later batches, deletions, DeleteNow and DropPrefix, every key reads what Badger holds.
func TestKeptBatchesReadAsBadgerDoes(t *testing.T) {
	s := Open(openDB(t, t.TempDir()))
	defer s.DB().Close()
	rng := rand.New(rand.NewPCG(1, 2))
	keys := []string{"a/1", "a/2", "a/3", "b/1", "b/2", "b/3"}
	badgerValue := func(key string) (string, bool) {
		var v string
		found := false
		err := s.DB().View(func(txn *badger.Txn) error {
			item, err := txn.Get([]byte(key))
			if errors.Is(err, badger.ErrKeyNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			found = true
			b, err := item.ValueCopy(nil)
			v = string(b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return v, found
	}
	for batch := range 40 {
		for range 4 {
			k := []byte(keys[rng.IntN(len(keys))])
			if rng.IntN(4) == 0 {
				s.Delete(k)
			} else {
				s.Set(k, fmt.Appendf(nil, "batch %d", batch))
			}
		}
		s.Seal()
		if err := s.Checkpoint(); err != nil {
			t.Fatal(err)
		}
		switch rng.IntN(5) {
		case 0:
			if err := s.DeleteNow([]byte(keys[rng.IntN(len(keys))])); err != nil {
				t.Fatal(err)
			}
		case 1:
			if err := s.DropPrefix([]byte("a/")); err != nil {
				t.Fatal(err)
			}
		}
		for _, k := range keys {
			wantV, wantOK := badgerValue(k)
			gotV, gotOK := value(t, s, k)
			if gotV != wantV || gotOK != wantOK {
				t.Fatalf("after batch %d %s reads %q (found %v); Badger holds %q (found %v)", batch, k, gotV, gotOK, wantV, wantOK)
			}
		}
	}
}
