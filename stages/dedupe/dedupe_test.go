package dedupe

import (
	"fmt"
	"testing"
)

// seen, hold, remember and forget take the strings events carry.
func seen(s *Set, k string) bool { return s.Seen(s.Key(k)) }
func hold(s *Set, k string)      { s.Hold(s.Key(k)) }
func remember(s *Set, k string)  { s.Remember([]Key{s.Key(k)}) }
func forget(s *Set, k string)    { s.Forget([]Key{s.Key(k)}) }

// A key in flight counts as seen, so the same event twice in one batch is applied once; a
// new set (a restart) knows nothing, so a webhook redelivered after a crash is processed
// rather than lost.
func TestHeldKeysAreSeenUntilReleased(t *testing.T) {
	s := New(Config{})
	hold(s, "wamid.1")
	if !seen(s, "wamid.1") {
		t.Fatal("a key in flight must count as seen")
	}
	if seen(New(Config{}), "wamid.1") {
		t.Fatal("a restarted set must not know a key that was never durable")
	}
	forget(s, "wamid.1")
	if seen(s, "wamid.1") {
		t.Fatal("a released key of a record that will be read again must not be seen")
	}
}

func TestRememberedKeysAreSeen(t *testing.T) {
	s := New(Config{})
	hold(s, "wamid.2|delivered")
	remember(s, "wamid.2|delivered")
	if !seen(s, "wamid.2|delivered") {
		t.Fatal("a durable key must be seen")
	}
	if seen(s, "wamid.2|read") {
		t.Fatal("another status of the same message is a different event")
	}
}

// Two holders of one key (the same event in two records in flight): the key stays held
// until both let go.
func TestHoldsAreCounted(t *testing.T) {
	s := New(Config{})
	hold(s, "k")
	hold(s, "k")
	forget(s, "k")
	if !seen(s, "k") {
		t.Fatal("a key still held by one record must be seen")
	}
	forget(s, "k")
	if seen(s, "k") {
		t.Fatal("a key no record holds must not be seen")
	}
}

// The set never holds more than Config.Keys durable keys: the newest are remembered, the
// oldest generation is forgotten as a whole.
func TestSizeIsBoundedAndKeepsTheNewest(t *testing.T) {
	const keys = 1000
	s := New(Config{Keys: keys})
	for i := range 10 * keys {
		k := fmt.Sprint("wamid.", i)
		hold(s, k)
		remember(s, k)
		if n := s.Len(); n > keys {
			t.Fatalf("after %d keys the set holds %d, more than its %d", i+1, n, keys)
		}
	}
	for i := 10*keys - keys/2; i < 10*keys; i++ {
		if !seen(s, fmt.Sprint("wamid.", i)) {
			t.Fatalf("wamid.%d, among the newest %d keys, is forgotten", i, keys/2)
		}
	}
	if seen(s, "wamid.0") {
		t.Fatal("the oldest key is still remembered past the bound")
	}
	if len(s.pending) != 0 {
		t.Fatalf("%d holds left after every key was remembered", len(s.pending))
	}
}

// Keys that land on the same slot, the last slot (so probes wrap), and the zero key are all
// told apart; a key never added is not seen, even where the probes for it start in a run.
func TestGenerationTellsCollidingKeysApart(t *testing.T) {
	g := newGeneration(4) // 8 slots
	last := g.mask
	keys := []Key{{last, 1}, {last, 2}, {last + 8, 3}, {0, 0}, {0, 1}, {3, 9}}
	for _, k := range keys[:4] {
		g.add(k)
		g.add(k) // twice is once
	}
	if g.n != 4 {
		t.Fatalf("%d keys held, want 4", g.n)
	}
	for _, k := range keys[:4] {
		if !g.has(k) {
			t.Errorf("%v added but not found", k)
		}
	}
	for _, k := range []Key{{last, 4}, {1, 1}, {3, 9}} {
		if g.has(k) {
			t.Errorf("%v found but never added", k)
		}
	}
	g.reset()
	if g.n != 0 || g.has(keys[0]) {
		t.Fatal("a reset generation still holds keys")
	}
}
