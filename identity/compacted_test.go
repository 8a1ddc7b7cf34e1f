package identity

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/wapipe/wapipe/model"
)

// The identity topic is compacted: only the last snapshot of each contact survives. Three
// workers resolve random traffic, publish what they changed, import each other's snapshots
// at random moments and publish again what Import says a snapshot lacked. After they all
// caught up, a fresh worker that imports only the last snapshot of each contact knows
// every contact as one store that saw every event does.
func TestAFreshWorkerKnowsEveryFactFromTheCompactedTopic(t *testing.T) {
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			fs := randomFacts(seed, 400, 20)
			rng := rand.New(rand.NewPCG(seed, 5))
			stores := []*Store{newStore(t), newStore(t), sharedStore(t, openDB(t, t.TempDir()))}
			type entry struct {
				from       int
				key, value []byte
			}
			var log []entry
			publish := func(i int, refs []ContactRef) {
				snaps, err := stores[i].Snapshots(refs)
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range snaps {
					log = append(log, entry{i, s.Key, s.Value})
				}
			}
			next := make([]int, len(stores))
			catchUp := func(i, upTo int) {
				var vs [][]byte
				for ; next[i] < upTo; next[i]++ {
					if log[next[i]].from != i {
						vs = append(vs, log[next[i]].value)
					}
				}
				got, err := stores[i].Import(vs)
				if err != nil || len(got.Bad) > 0 {
					t.Fatalf("Import: %v %v", got.Bad, err)
				}
				if stores[i].shared {
					checkpoint(t, stores[i])
				}
				publish(i, got.Republish)
			}
			for _, f := range fs {
				i := rng.IntN(len(stores))
				r := resolve(t, stores[i], f)
				if stores[i].shared {
					checkpoint(t, stores[i])
				}
				publish(i, refsOf(r.Changed))
				if j := rng.IntN(len(stores)); rng.IntN(3) == 0 {
					catchUp(j, next[j]+rng.IntN(len(log)-next[j]+1))
				}
			}
			// Republished snapshots are imported in turn; the exchange must end.
			for round := 0; ; round++ {
				if round == 10 {
					t.Fatalf("workers still republishing after %d rounds (%d snapshots)", round, len(log))
				}
				before := len(log)
				for i := range stores {
					catchUp(i, len(log))
				}
				if len(log) == before && next[0] == len(log) && next[1] == len(log) && next[2] == len(log) {
					break
				}
			}

			last := map[string]int{}
			for i, e := range log {
				last[string(e.key)] = i
			}
			var compacted [][]byte
			for i, e := range log {
				if last[string(e.key)] == i {
					compacted = append(compacted, e.value)
				}
			}
			fresh := newStore(t)
			importAll(t, fresh, compacted)
			t.Logf("%d snapshots published, %d after compaction", len(log), len(compacted))
			sameRows(t, "a fresh worker from the compacted topic and one store that saw everything",
				outcomeOf(t, fresh, fs, false), outcome(t, Config{}, fs))
			sameRows(t, "a fresh worker and the workers", outcomeOf(t, fresh, fs, true), outcomeOf(t, stores[0], fs, true))
		})
	}
}

func refsOf(rows []model.Row) []ContactRef {
	var refs []ContactRef
	seen := map[ContactRef]bool{}
	for _, r := range rows {
		if ir, ok := r.(*model.IdentityRow); ok && !seen[ContactRef{ir.Tenant, ir.ContactID}] {
			seen[ContactRef{ir.Tenant, ir.ContactID}] = true
			refs = append(refs, ContactRef{ir.Tenant, ir.ContactID})
		}
	}
	return refs
}
