package identity

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/wapipe/wapipe/model"
)

// seeds are the random scenarios the property tests run; WAPIPE_IDENTITY_SEEDS=N runs
// N of them (300 pass; the default keeps go test fast).
var seeds = func() (out []uint64) {
	n, err := strconv.Atoi(os.Getenv("WAPIPE_IDENTITY_SEEDS"))
	if err != nil || n <= 0 {
		n = 6
	}
	for i := 1; i <= n; i++ {
		out = append(out, uint64(i))
	}
	return out
}()

// The emitted rows, collapsed like ReplacingMergeTree collapses them, are the store's
// state: the caller can rebuild identities and contact_keys from Changed alone.
func TestRowsReproduceState(t *testing.T) {
	for _, cfg := range configs {
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("%+v/%d", cfg, seed), func(t *testing.T) {
				s := NewWithConfig(openDB(t, t.TempDir()), cfg)
				rs := resolveAll(t, s, randomFacts(seed, 600, 24))
				sameRows(t, "replayed rows and state", replay(t, rs), dump(t, s))
				var all []model.Row // what a sink would collapse before one flush
				for _, r := range rs {
					all = append(all, r.Changed...)
				}
				sameRows(t, "collapsed rows and state", sortedRows(Collapse(all)), dump(t, s))
			})
		}
	}
}

// configs are the store settings the property tests cover.
var configs = []Config{{}, {SeenStep: time.Minute, CacheContacts: 8}}

// Re-applying facts already applied (a crash and reprocess) changes nothing.
func TestIdempotentReapply(t *testing.T) {
	for _, cfg := range configs {
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("%+v/%d", cfg, seed), func(t *testing.T) {
				s := NewWithConfig(openDB(t, t.TempDir()), cfg)
				fs := randomFacts(seed, 600, 24)
				resolveAll(t, s, fs)
				before := dump(t, s)
				for i, f := range fs {
					r := resolve(t, s, f)
					if len(r.Changed) != 0 {
						t.Fatalf("re-applying event %d %+v changed %d rows: %s", i, f, len(r.Changed), rowString(r.Changed[0]))
					}
					if r.Who.ContactID == "" || r.Who.ContactID != resolve(t, s, f).Who.ContactID {
						t.Fatalf("event %d: unstable contact", i)
					}
				}
				sameRows(t, "state after re-apply", dump(t, s), before)
			})
		}
	}
}

// Two workers that see the same facts mint the same contact ids and write the same
// rows, whatever their cache size.
func TestDeterministicAcrossStores(t *testing.T) {
	fs := randomFacts(9, 800, 30)
	a := NewWithConfig(openDB(t, t.TempDir()), Config{CacheContacts: -1})
	b := NewWithConfig(openDB(t, t.TempDir()), Config{CacheContacts: 4})
	ra, rb := resolveAll(t, a, fs), resolveAll(t, b, fs)
	for i := range ra {
		if !reflect.DeepEqual(ra[i].Who, rb[i].Who) || !reflect.DeepEqual(sortedRows(ra[i].Changed), sortedRows(rb[i].Changed)) {
			t.Fatalf("event %d differs:\n%+v\n%+v", i, ra[i], rb[i])
		}
	}
	sameRows(t, "states", dump(t, a), dump(t, b))
	typ, val := firstKey(fs[0])
	if got, want := ra[0].Who.ContactID, ContactID(fs[0].Tenant, typ, val); got != want {
		t.Fatalf("first contact id %s, want %s", got, want)
	}
}

func firstKey(f Facts) (string, string) {
	for _, k := range [][2]string{{KeyBSUID, f.PreviousBSUID}, {KeyBSUID, f.BSUID}, {KeyPhone, f.PreviousPhone}} {
		if k[1] != "" {
			return k[0], k[1]
		}
	}
	return KeyPhone, f.Phone
}

// ResolveBatch, over several rounds of the working set, gives what one-by-one Resolve gives.
func TestBatchMatchesSequential(t *testing.T) {
	fs := randomFacts(11, 500, 20)
	a := newStore(t)
	a.batch = 7
	b := newStore(t)
	ra, err := a.ResolveBatch(fs)
	if err != nil {
		t.Fatal(err)
	}
	rb := resolveAll(t, b, fs)
	for i := range rb {
		if !reflect.DeepEqual(ra[i].Who, rb[i].Who) || !reflect.DeepEqual(sortedRows(ra[i].Changed), sortedRows(rb[i].Changed)) {
			t.Fatalf("event %d differs:\n%+v\n%+v", i, ra[i], rb[i])
		}
	}
	sameRows(t, "states", dump(t, a), dump(t, b))
}

// State survives closing and reopening the database (and a cold cache).
func TestReopen(t *testing.T) {
	fs := randomFacts(13, 400, 20)
	dir := t.TempDir()
	db := openDB(t, dir)
	resolveAll(t, New(db), fs[:200])
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	reopened := New(openDB(t, dir))
	resolveAll(t, reopened, fs[200:])
	whole := newStore(t)
	resolveAll(t, whole, fs)
	sameRows(t, "states", dump(t, reopened), dump(t, whole))
}

func TestInvalidFacts(t *testing.T) {
	s := newStore(t)
	for _, f := range []Facts{{BSUID: b1}, {Tenant: tenant, Phone: p1, PhoneSource: "identity"}} {
		if _, err := s.Resolve(f); !errors.Is(err, ErrInvalid) {
			t.Errorf("Resolve(%+v) = %v, want ErrInvalid", f, err)
		}
	}
	if _, _, err := s.ContactOf(tenant, "email", "x"); !errors.Is(err, ErrKeyType) {
		t.Errorf("ContactOf(email) = %v, want ErrKeyType", err)
	}
}

// Events without a BSUID or phone only look up; they never create a contact.
func TestWeakKeysOnlyLookUp(t *testing.T) {
	s := newStore(t)
	if r := resolve(t, s, Facts{At: 1, Username: "@ghost"}); r.Who.ContactID != "" || len(r.Changed) != 0 {
		t.Fatalf("username-only event created %+v", r)
	}
	resolve(t, s, Facts{At: 1, BSUID: b1, Username: "@ana"})
	if r := resolve(t, s, Facts{At: 2, Username: "@ANA"}); r.Who.ContactID != ContactID(tenant, KeyBSUID, b1) || len(r.Changed) != 0 {
		t.Fatalf("username-only event = %+v", r)
	}
}

// With SeenStep, a burst of events of one contact writes once, and identity times are
// kept at the step's resolution.
func TestSeenStep(t *testing.T) {
	s := NewWithConfig(openDB(t, t.TempDir()), Config{SeenStep: time.Minute})
	var changed []int
	for _, at := range []int64{120, 130, 179, 180, 90} {
		changed = append(changed, len(resolve(t, s, Facts{At: at, BSUID: b1, Phone: p1}).Changed))
	}
	if fmt.Sprint(changed) != "[3 0 0 3 3]" {
		t.Fatalf("rows per event = %v", changed)
	}
	if c := contact(t, s, ContactID(tenant, KeyBSUID, b1)); c.FirstSeen != 60 || c.LastSeen != 180 {
		t.Fatalf("contact = %+v", c)
	}
}
