package dedupe

import (
	"fmt"
	"testing"
)

// key has the shape of a status's dedupe key: a wamid (about 60 bytes) and the status.
func key(i int) string {
	return fmt.Sprintf("wamid.HBgLMTU1NTAxMDAwMDAVAgARGBI%024dAA=|delivered", i)
}

// ring is keys made before timing, so the loops measure the set and not fmt.
func ring(s *Set, from int) []Key {
	keys := make([]Key, 1<<16)
	for i := range keys {
		keys[i] = s.Key(key(from + i))
	}
	return keys
}

// full returns a set that holds DefaultKeys durable keys.
func full() *Set {
	s := New(Config{})
	keys := ring(s, 0)
	for i := range DefaultKeys {
		s.Remember(keys[i%len(keys) : i%len(keys)+1])
	}
	return s
}

// The usual case: a new event (its key hashed), held while in flight, then remembered.
func BenchmarkNewEvent(b *testing.B) {
	s := full()
	keys := ring(s, 1<<30)
	b.ReportAllocs()
	b.ResetTimer()
	strs := make([]string, len(keys))
	for i := range strs {
		strs[i] = key(1<<30 + i)
	}
	b.ResetTimer()
	for i := range b.N {
		k := s.Key(strs[i%len(strs)])
		if s.Seen(k) && i < len(keys) {
			b.Fatal("a new key is seen")
		}
		s.Hold(k)
		s.Remember(keys[i%len(keys) : i%len(keys)+1])
	}
}

// A redelivered webhook: the key is remembered.
func BenchmarkDuplicate(b *testing.B) {
	s := full()
	keys := ring(s, 0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if !s.Seen(keys[i%len(keys)]) {
			b.Fatal("a remembered key is not seen")
		}
	}
}
