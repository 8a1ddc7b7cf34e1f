package identity

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// Config.Deferred only moves commits: every event resolves to the same identity and rows
// as with a commit per event, reads between events see what was applied, and after Flush
// the store holds the same state.
func TestDeferredMatchesImmediate(t *testing.T) {
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			fs := randomFacts(seed, 500, 24)
			now := New(openDB(t, t.TempDir()))
			later := NewWithConfig(openDB(t, t.TempDir()), Config{Deferred: true, BatchSize: 64})
			rng := rand.New(rand.NewPCG(seed, 5))
			for i, f := range fs {
				want, got := resolve(t, now, f), resolve(t, later, f)
				if got.Who.ContactID != want.Who.ContactID || str(got.Who.Phone) != str(want.Who.Phone) ||
					!slices.Equal(sortedRows(got.Changed), sortedRows(want.Changed)) {
					t.Fatalf("event %d (%+v): deferred %+v %v, immediate %+v %v", i, f, got.Who, sortedRows(got.Changed), want.Who, sortedRows(want.Changed))
				}
				if id := want.Who.ContactID; id != "" {
					a, _ := now.Rows(f.Tenant, id)
					b, _ := later.Rows(f.Tenant, id)
					sameRows(t, fmt.Sprintf("Rows after event %d", i), sortedRows(b), sortedRows(a))
				}
				if rng.IntN(20) == 0 {
					if err := later.Flush(); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := later.Flush(); err != nil {
				t.Fatal(err)
			}
			sameRows(t, "state", dump(t, later), dump(t, now))
		})
	}
}
