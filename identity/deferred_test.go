package identity

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// A shared state only moves writes: every event resolves to the same identity and rows as
// with a checkpoint per call, reads see what was applied whether or not it is
// checkpointed yet, and once every batch is checkpointed Badger holds the same state.
func TestSharedStateMatchesImmediate(t *testing.T) {
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			fs := randomFacts(seed, 500, 24)
			now := New(openDB(t, t.TempDir()))
			later := sharedStore(t, openDB(t, t.TempDir()))
			rng := rand.New(rand.NewPCG(seed, 5))
			for i, f := range fs {
				want, got := resolve(t, now, f), resolve(t, later, f)
				if got.Who.ContactID != want.Who.ContactID || str(got.Who.Phone) != str(want.Who.Phone) ||
					!slices.Equal(sortedRows(got.Changed), sortedRows(want.Changed)) {
					t.Fatalf("event %d (%+v): shared %+v %v, immediate %+v %v", i, f, got.Who, sortedRows(got.Changed), want.Who, sortedRows(want.Changed))
				}
				if id := want.Who.ContactID; id != "" {
					a, _ := now.Rows(f.Tenant, id)
					b, _ := later.Rows(f.Tenant, id)
					sameRows(t, fmt.Sprintf("Rows after event %d", i), sortedRows(b), sortedRows(a))
				}
				switch rng.IntN(20) {
				case 0:
					later.st.Seal() // a batch waits for its rows while the next is processed
				case 1:
					if err := later.st.Checkpoint(); err != nil {
						t.Fatal(err)
					}
				}
			}
			for later.st.Sealed() > 0 {
				if err := later.st.Checkpoint(); err != nil {
					t.Fatal(err)
				}
			}
			checkpoint(t, later)
			sameRows(t, "state", dump(t, later), dump(t, now))
		})
	}
}

// A worker that stopped after a batch was checkpointed but before its rows were durable gets,
// at start, the rows of exactly the contacts that batch changed; once a batch is durable its
// contacts are no longer reported, and ForgetDirty drops what was read.
func TestDirtyRowsAfterACrash(t *testing.T) {
	dir := t.TempDir()
	db, err := badger.Open(BadgerOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	s := sharedStore(t, db)
	endBatch := func() {
		s.SealDirty()
		checkpoint(t, s)
	}
	durable := resolve(t, s, Facts{At: 10, BSUID: "BR.1"}).Who.ContactID
	endBatch()
	if err := s.Durable(); err != nil {
		t.Fatal(err)
	}
	lost := resolve(t, s, Facts{At: 20, BSUID: "BR.2", Phone: "5511900000002"}).Who.ContactID
	endBatch() // checkpointed; the stop comes before the rows are durable
	db.Close()

	restarted := sharedStore(t, openDB(t, dir))
	rows, refs, err := restarted.DirtyRows()
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || refs[0].ID != lost {
		t.Fatalf("dirty contacts %v, want only %s (not %s, whose batch was durable)", refs, lost, durable)
	}
	if got := keyRows(Resolution{Changed: rows}); got["bsuid BR.2"] != lost || got["phone 5511900000002"] != lost {
		t.Fatalf("dirty rows %v", sortedRows(rows))
	}
	if err := restarted.ForgetDirty(); err != nil {
		t.Fatal(err)
	}
	if _, refs, _ := restarted.DirtyRows(); len(refs) != 0 {
		t.Fatalf("still dirty after ForgetDirty: %v", refs)
	}
}

// With LastSeenStep, a burst of events of one contact writes once; last_seen catches up
// as soon as it would lag by the step, and first_seen and facts stay exact.
func TestLastSeenStep(t *testing.T) {
	s := NewWithConfig(openDB(t, t.TempDir()), Config{LastSeenStep: time.Minute})
	first := resolve(t, s, Facts{At: 1000, BSUID: "BR.9", Phone: "5511900000009"})
	if len(first.Changed) == 0 {
		t.Fatal("the first event wrote nothing")
	}
	for _, at := range []int64{1010, 1030, 1059} {
		if r := resolve(t, s, Facts{At: at, BSUID: "BR.9"}); len(r.Changed) != 0 || r.Who.ContactID != first.Who.ContactID {
			t.Fatalf("event at %d changed %d rows (contact %s)", at, len(r.Changed), r.Who.ContactID)
		}
	}
	if r := resolve(t, s, Facts{At: 1040, BSUID: "BR.9", ProfileName: "New name"}); len(identityRows(r)) != 1 {
		t.Fatal("a new fact inside the step was not written")
	}
	if r := resolve(t, s, Facts{At: 1061, BSUID: "BR.9"}); len(r.Changed) == 0 {
		t.Fatal("last_seen a step behind was not moved")
	}
	if c := contact(t, s, first.Who.ContactID); c.FirstSeen != 1000 || c.LastSeen != 1061 || c.ProfileName != "New name" {
		t.Fatalf("contact %+v", c)
	}
	if r := resolve(t, s, Facts{At: 900, BSUID: "BR.9"}); len(r.Changed) == 0 || contact(t, s, first.Who.ContactID).FirstSeen != 900 {
		t.Fatal("an older event did not move first_seen")
	}
}
