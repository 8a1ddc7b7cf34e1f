package identity

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// Rules 7 and 8: whatever order the events arrive in, the same BSUIDs and phones end up
// on one contact, and that contact shows the same current facts. (Contact ids may
// differ: a contact is named after the key it was created from.)
func TestOrderDoesNotChangeOutcome(t *testing.T) {
	for _, cfg := range configs {
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("%+v/%d", cfg, seed), func(t *testing.T) {
				fs := randomFacts(seed, 500, 24)
				want := outcome(t, cfg, fs)
				rng := rand.New(rand.NewPCG(seed, 99))
				for range 3 {
					shuffled := slices.Clone(fs)
					rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
					sameRows(t, "outcomes", outcome(t, cfg, shuffled), want)
				}
			})
		}
	}
}

// outcome describes, for every BSUID and phone seen, the other strong keys of its
// contact and the contact's current facts.
func outcome(t *testing.T, cfg Config, fs []Facts) []string {
	s := NewWithConfig(openDB(t, t.TempDir()), cfg)
	resolveAll(t, s, fs)
	return outcomeOf(t, s, fs, false)
}

// outcomeOf describes the store's contacts for the keys of fs; withIDs adds the contact
// id, which is the same on every worker once they have exchanged snapshots.
func outcomeOf(t *testing.T, s *Store, fs []Facts, withIDs bool) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	for _, f := range fs {
		var buf [4]kv
		for _, k := range strongKeys(&f, &buf) {
			line := f.Tenant + " " + typeOf(k.code) + " " + k.value
			if seen[line] {
				continue
			}
			seen[line] = true
			c, ok, err := s.Lookup(f.Tenant, typeOf(k.code), k.value)
			if err != nil || !ok {
				t.Fatalf("%s: %v %v", line, ok, err)
			}
			var strong []string
			for _, key := range c.Keys {
				if key.Type == KeyBSUID || key.Type == KeyPhone {
					strong = append(strong, key.Value)
				}
			}
			slices.Sort(strong)
			if withIDs {
				line += " " + c.ID
			}
			out = append(out, fmt.Sprintf("%s => keys %s bsuid %s parent %s phone %s (%s) name %s user %s seen %d-%d", line,
				strings.Join(strong, ","), c.BSUID, c.ParentBSUID, c.Phone, c.PhoneSource, c.ProfileName, strings.ToLower(c.Username), c.FirstSeen, c.LastSeen))
		}
	}
	slices.Sort(out)
	return out
}
