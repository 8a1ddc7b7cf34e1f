package gen

import (
	"bytes"
	"testing"
)

// The promise of streaming: what the generator holds beyond its users (pending
// statuses and calls, retries, messages in flight) stays small however long the stream.
func TestWindowStaysSmall(t *testing.T) {
	n := 300000
	if testing.Short() {
		n = 50000
	}
	g := New(Config{Seed: 13, Webhooks: n, Users: 1000})
	peak := 0
	var prev []byte
	for b, ok := g.Next(); ok; b, ok = g.Next() {
		peak = max(peak, len(g.msgs.a)+len(g.calls.a)+len(g.retries.a))
		if len(prev) > 0 && &prev[0] == &b.Value[0] {
			t.Fatal("two bodies share a Value slice")
		}
		prev = b.Value
	}
	if peak > 2000 || len(g.states) > 2000 {
		t.Errorf("window grew: %d pending events and retries, %d message states", peak, len(g.states))
	}
	t.Logf("%d bodies: at most %d pending, %d message states", n, peak, len(g.states))
}

// Identity bookkeeping has seed-dependent corners (a user first seen through a failed
// status, a number change right before the stream ends): recount several streams.
func TestManySeedsMatchRecount(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	for seed := int64(100); seed < 106; seed++ {
		cfg := Config{Seed: seed, Webhooks: 10000, Users: 300 + int(seed%3)*400, Businesses: int(seed % 4),
			PoisonRate: float64(seed%3) / 40}
		s := run(cfg)
		for _, e := range append(s.errs, diff(s.got, s.gen)...) {
			t.Errorf("seed %d: %s", seed, e)
		}
	}
}

// Values are fresh: changing one must not change a later duplicate of it.
func TestValuesAreFresh(t *testing.T) {
	g := New(Config{Seed: 14, Webhooks: 5000, DuplicateRate: 0.5})
	first := map[string][]byte{}
	for b, ok := g.Next(); ok; b, ok = g.Next() {
		if !b.Duplicate {
			first[string(b.Value)] = b.Value
			continue
		}
		orig, found := first[string(b.Value)]
		if !found {
			continue // its original was itself a duplicate
		}
		copyOf := bytes.Clone(b.Value)
		for i := range orig {
			orig[i] = 'x'
		}
		if !bytes.Equal(b.Value, copyOf) {
			t.Fatal("a duplicate shares bytes with its original")
		}
		delete(first, string(copyOf))
	}
}

func BenchmarkNext(b *testing.B) {
	g := New(Config{Seed: 1, Webhooks: b.N})
	size := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body, _ := g.Next()
		size += len(body.Value)
	}
	b.ReportMetric(float64(size)/float64(b.N), "bytes/body")
}
