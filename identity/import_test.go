package identity

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/wapipe/wapipe/model"
)

// published returns the snapshots a worker publishes for the rows a call changed.
func published(t *testing.T, s *Store, rows []model.Row) [][]byte {
	t.Helper()
	var refs []ContactRef
	for _, r := range rows {
		if ir, ok := r.(*model.IdentityRow); ok && !slices.Contains(refs, ContactRef{ir.Tenant, ir.ContactID}) {
			refs = append(refs, ContactRef{ir.Tenant, ir.ContactID})
		}
	}
	snaps, err := s.Snapshots(refs)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, sn := range snaps {
		out = append(out, sn.Value)
	}
	return out
}

func importAll(t *testing.T, s *Store, values [][]byte) []model.Row {
	t.Helper()
	got, err := s.Import(values)
	if err != nil || len(got.Bad) > 0 {
		t.Fatalf("Import: %v %v", got.Bad, err)
	}
	return got.Rows
}

// The multi-worker case of issue 4: worker A sees a user's phone-only traffic and then a
// message with phone and BSUID; worker B, which owns another partition, sees only the
// BSUID. Once B imported A's snapshots it resolves the BSUID to A's contact and fills the
// phone from identity.
func TestImportedContactResolvesOnAnotherWorker(t *testing.T) {
	a, b := newStore(t), newStore(t)
	r1 := resolve(t, a, Facts{At: 100, Phone: "5511999990000"})
	r2 := resolve(t, a, Facts{At: 200, Phone: "5511999990000", BSUID: "BR.123", Username: "@lina"})
	importAll(t, b, published(t, a, append(r1.Changed, r2.Changed...)))

	got := resolve(t, b, Facts{At: 300, BSUID: "BR.123"}).Who
	if got.ContactID != r1.Who.ContactID || str(got.Phone) != "5511999990000" || got.PhoneSource != model.PhoneFromIdentity || got.Username != "@lina" {
		t.Fatalf("B resolved %+v (phone %s), want contact %s with the phone from identity", got, str(got.Phone), r1.Who.ContactID)
	}
	if id := contactOf(t, b, KeyUsername, "@LINA"); id != r1.Who.ContactID {
		t.Fatalf("username resolves to %s on B, want %s", id, r1.Who.ContactID)
	}
	// Importing the same snapshots again changes nothing.
	if rows := importAll(t, b, published(t, a, r2.Changed)); len(rows) != 0 {
		t.Fatalf("re-import changed %d rows", len(rows))
	}
}

// Two workers create a contact each for one person (B from the BSUID, A from the phone),
// then A learns the link. Both end with A's older contact, B's merged into it.
func TestImportMergesIntoTheOlderContact(t *testing.T) {
	a, b := newStore(t), newStore(t)
	ra := resolve(t, a, Facts{At: 100, Phone: "5511999990001"})
	rb := resolve(t, b, Facts{At: 150, BSUID: "BR.7"})
	rl := resolve(t, a, Facts{At: 200, Phone: "5511999990001", BSUID: "BR.8"})
	rl2 := resolve(t, a, Facts{At: 210, BSUID: "BR.8", PreviousBSUID: "BR.7"}) // a BSUID change links BR.7 too
	fromA := published(t, a, slices.Concat(ra.Changed, rl.Changed, rl2.Changed))
	fromB := published(t, b, rb.Changed)

	rowsB := importAll(t, b, fromA)
	importAll(t, a, fromB)
	for name, s := range map[string]*Store{"A": a, "B": b} {
		for _, k := range [][2]string{{KeyPhone, "5511999990001"}, {KeyBSUID, "BR.7"}, {KeyBSUID, "BR.8"}} {
			if id := contactOf(t, s, k[0], k[1]); id != ra.Who.ContactID {
				t.Errorf("%s: %s %s resolves to %s, want %s", name, k[0], k[1], id, ra.Who.ContactID)
			}
		}
		if c := contact(t, s, rb.Who.ContactID); c.MergedInto != ra.Who.ContactID {
			t.Errorf("%s: B's contact has merged_into %q, want %s", name, c.MergedInto, ra.Who.ContactID)
		}
		if c := contact(t, s, ra.Who.ContactID); c.FirstSeen != 100 || c.BSUID != "BR.8" {
			t.Errorf("%s: survivor %+v, want first seen 100 and BSUID BR.8", name, c)
		}
	}
	if merged := identityRows(Resolution{Changed: rowsB})[rb.Who.ContactID]; merged == nil || merged.MergedInto != ra.Who.ContactID {
		t.Errorf("B's import emitted no merged_into row for its own contact: %+v", rowsB)
	}
}

// A worker merged a contact into a younger one because it had not seen the contact's
// earliest traffic; a snapshot showing that earlier traffic brings it back as the
// survivor, as it is on the worker that saw it.
func TestImportRevivesTheOlderContact(t *testing.T) {
	a, b := newStore(t), newStore(t)
	old := resolve(t, a, Facts{At: 100, BSUID: "BR.1"}) // A met BR.1 first, at 100
	resolve(t, b, Facts{At: 120, Phone: "5511999990002"})
	rb := resolve(t, b, Facts{At: 300, BSUID: "BR.1", Phone: "5511999990002"}) // B met BR.1 at 300: phone contact survives
	if rb.Who.ContactID == old.Who.ContactID {
		t.Fatal("setup: B should have kept its phone contact")
	}
	importAll(t, b, published(t, a, old.Changed))
	importAll(t, a, published(t, b, rb.Changed))
	for name, s := range map[string]*Store{"A": a, "B": b} {
		if id := contactOf(t, s, KeyPhone, "5511999990002"); id != old.Who.ContactID {
			t.Errorf("%s: the phone resolves to %s, want the older contact %s", name, id, old.Who.ContactID)
		}
		if c := contact(t, s, rb.Who.ContactID); c.MergedInto != old.Who.ContactID {
			t.Errorf("%s: the phone contact has merged_into %q, want %s", name, c.MergedInto, old.Who.ContactID)
		}
	}
}

func TestImportReportsBadSnapshots(t *testing.T) {
	s := newStore(t)
	src, rows := newStoreWith(t, Facts{At: 5, BSUID: "BR.5"})
	good := published(t, src, rows)
	got, err := s.Import([][]byte{[]byte("not a snapshot"), good[0], {snapshotFormat, 9}})
	if bad := got.Bad; err != nil || len(bad) != 2 || bad[0] == nil || bad[2] == nil {
		t.Fatalf("bad = %v, err = %v; want entries 0 and 2 reported", bad, err)
	}
	if _, ok, _ := s.ContactOf(tenant, KeyBSUID, "BR.5"); !ok {
		t.Fatal("the good snapshot beside the bad ones was not imported")
	}
}

// newStoreWith is a store that resolved f; published() of it gives f's snapshots.
func newStoreWith(t *testing.T, f Facts) (*Store, []model.Row) {
	t.Helper()
	s := newStore(t)
	f.Tenant = tenant
	return s, resolve(t, s, f).Changed
}

// Rule 8 over random traffic: three workers each resolve a share of the events and import
// the others' snapshots at random moments. Once every snapshot is imported, all three
// agree on every key's contact id and facts, they agree with one store that saw every
// event, and the newest version of every identities/contact_keys row any of them wrote
// (what ReplacingMergeTree keeps) is the converged state.
func TestWorkersConvergeOnRandomTraffic(t *testing.T) {
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			fs := randomFacts(seed, 400, 20)
			rng := rand.New(rand.NewPCG(seed, 3))
			// The third works as the pipeline runs it: one open transaction, flushed before
			// its rows go out and its snapshots are published.
			stores := []*Store{newStore(t), newStore(t), sharedStore(t, openDB(t, t.TempDir()))}
			flush := func(s *Store) {
				if s.shared {
					checkpoint(t, s)
				}
			}
			type entry struct {
				from  int
				value []byte
			}
			var log []entry
			next := make([]int, len(stores))
			var written []model.Row
			catchUp := func(i, upTo int) {
				var vs [][]byte
				for ; next[i] < upTo; next[i]++ {
					if log[next[i]].from != i {
						vs = append(vs, log[next[i]].value)
					}
				}
				written = append(written, importAll(t, stores[i], vs)...)
				flush(stores[i])
			}
			for _, f := range fs {
				i := rng.IntN(len(stores))
				r := resolve(t, stores[i], f)
				written = append(written, r.Changed...)
				flush(stores[i])
				for _, v := range published(t, stores[i], r.Changed) {
					log = append(log, entry{i, v})
				}
				if j := rng.IntN(len(stores)); rng.IntN(3) == 0 {
					catchUp(j, next[j]+rng.IntN(len(log)-next[j]+1))
				}
			}
			for i := range stores {
				catchUp(i, len(log))
			}
			want := outcomeOf(t, stores[0], fs, true)
			for i, s := range stores[1:] {
				sameRows(t, fmt.Sprintf("worker %d and worker 1", i+2), outcomeOf(t, s, fs, true), want)
			}
			sameRows(t, "the workers and one store that saw everything", outcomeOf(t, stores[0], fs, false), outcome(t, Config{}, fs))
			state := comparable(dump(t, stores[0]), nil)
			sameRows(t, "the newest rows written and the store", comparable(sortedRows(Collapse(written)), state), state)
		})
	}
}

// comparable is what must agree between the rows the workers wrote and a store's state:
// rows without their version (workers number versions differently); of a merged
// contact only the survivor its merged_into chain ends at (its last facts, and which
// contact it was merged into first, depend on what each worker had seen); and not the contact_keys row of a username spelling that another worker
// saw first in another case (the store keeps one spelling, and that row stays behind).
func comparable(rows, state []string) []string {
	spelled := map[string]bool{}
	for _, r := range state {
		spelled[r[:strings.Index(r, " => ")]] = true
	}
	fields := func(r string) (string, []string) {
		key, vals, _ := strings.Cut(strings.TrimSuffix(r, "|"), " => ")
		f := strings.Split(vals, "|")
		return key, f[:len(f)-1] // without the version
	}
	into := map[string]string{} // tenant|contact -> merged_into
	for _, r := range rows {
		if key, f := fields(r); strings.HasPrefix(key, "identities|") {
			into[f[0]+"|"+f[1]] = f[len(f)-1]
		}
	}
	final := func(tenant, id string) string {
		for range 16 {
			next := into[tenant+"|"+id]
			if next == "" {
				return id
			}
			id = next
		}
		return "a merged_into cycle at " + id
	}
	var out []string
	for _, r := range rows {
		key, f := fields(r)
		if strings.HasPrefix(key, "identities|") && f[len(f)-1] != "" {
			f = []string{f[0], f[1], "survivor " + final(f[0], f[1])}
		}
		if state != nil && strings.HasPrefix(key, "contact_keys|") && f[1] == KeyUsername && !spelled[key] {
			continue
		}
		out = append(out, key+" => "+strings.Join(f, "|"))
	}
	return out
}

// Snapshots skips contacts it does not know and goes on with the others, and adds the
// survivor of a merged contact.
func TestSnapshotsOfUnknownAndMergedContacts(t *testing.T) {
	s := newStore(t)
	a := resolve(t, s, Facts{At: 1, Phone: "5511900000077"}).Who.ContactID
	b := resolve(t, s, Facts{At: 2, BSUID: "BR.77"}).Who.ContactID
	resolve(t, s, Facts{At: 3, BSUID: "BR.77", Phone: "5511900000077"}) // b merges into a
	snaps, err := s.Snapshots([]ContactRef{{tenant, "c_unknown"}, {tenant, b}})
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 2 || !snaps[0].Live || snaps[1].Live || string(snaps[0].Key) != string(SnapshotKey(tenant, a)) {
		t.Fatalf("snapshots %+v, want the survivor %s first, then the merged %s", snaps, a, b)
	}
}
