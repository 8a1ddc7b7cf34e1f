package identity

import "testing"

const b1, b2, p1, p2 = "US.1001", "US.1002", "15550001", "15550002"

// ruleCase feeds events to a fresh store, then checks what a user of the reports sees:
// which contact, which phone and username are on it, which rows changed.
type ruleCase struct {
	name   string
	events []Facts
	check  func(t *testing.T, s *Store, last Resolution)
}

func runRules(t *testing.T, cases []ruleCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			var last Resolution
			for _, f := range tc.events {
				last = resolve(t, s, f)
			}
			tc.check(t, s, last)
			for _, f := range tc.events { // and re-applying them (a reprocess) changes nothing
				if r := resolve(t, s, f); len(r.Changed) != 0 {
					t.Fatalf("re-applying %+v changed %d rows", f, len(r.Changed))
				}
			}
		})
	}
}

// Contract section 4, rules 1-3: linking, merging, BSUID-only and phone-only events.
func TestRulesLinkAndMerge(t *testing.T) {
	runRules(t, []ruleCase{{
		name:   "rule 1: BSUID and phone in one event link them",
		events: []Facts{{At: 100, BSUID: b1, Phone: p1}},
		check: func(t *testing.T, s *Store, last Resolution) {
			id := contactOf(t, s, KeyBSUID, b1)
			if got := contactOf(t, s, KeyPhone, p1); got != id || id != ContactID(tenant, KeyBSUID, b1) {
				t.Fatalf("phone -> %s, bsuid -> %s, want both %s", got, id, ContactID(tenant, KeyBSUID, b1))
			}
			if c := contact(t, s, id); c.Phone != p1 || c.PhoneSource != "webhook" || c.Country != "US" {
				t.Fatalf("contact = %+v", c)
			}
			if k := keyRows(last); k["bsuid "+b1] != id || k["phone "+p1] != id {
				t.Fatalf("key rows = %v", k)
			}
		},
	}, {
		name: "rule 1: phone-only and BSUID-only contacts merge, the older survives",
		events: []Facts{
			{At: 100, Phone: p1, ProfileName: "Ana"},
			{At: 200, BSUID: b1, Username: "@ana"},
			{At: 300, BSUID: b1, Phone: p1},
		},
		check: func(t *testing.T, s *Store, last Resolution) {
			old, young := ContactID(tenant, KeyPhone, p1), ContactID(tenant, KeyBSUID, b1)
			for _, k := range [][2]string{{KeyPhone, p1}, {KeyBSUID, b1}, {KeyUsername, "@ana"}} {
				if got := contactOf(t, s, k[0], k[1]); got != old {
					t.Errorf("%s %s -> %s, want survivor %s", k[0], k[1], got, old)
				}
			}
			if last.Who.ContactID != old {
				t.Errorf("Who.ContactID = %s, want %s", last.Who.ContactID, old)
			}
			rows := identityRows(last)
			if rows[young] == nil || rows[young].MergedInto != old || rows[old] == nil || rows[old].MergedInto != "" {
				t.Fatalf("identities rows = %+v", rows)
			}
			if c := contact(t, s, old); c.BSUID != b1 || c.Phone != p1 || c.Username != "@ana" || c.ProfileName != "Ana" || c.FirstSeen != 100 || c.LastSeen != 300 {
				t.Errorf("survivor = %+v", c)
			}
			if c := contact(t, s, young); c.MergedInto != old {
				t.Errorf("loser = %+v", c)
			}
			if k := keyRows(last); k["bsuid "+b1] != old || k["username @ana"] != old {
				t.Errorf("key rows = %v, want the loser's keys on %s", k, old)
			}
		},
	}, {
		name: "rule 1: equal first_seen, the smaller contact id survives",
		events: []Facts{
			{At: 100, Phone: p1},
			{At: 100, BSUID: b1},
			{At: 100, BSUID: b1, Phone: p1},
		},
		check: func(t *testing.T, s *Store, last Resolution) {
			want := min(ContactID(tenant, KeyPhone, p1), ContactID(tenant, KeyBSUID, b1))
			if got := contactOf(t, s, KeyPhone, p1); got != want || last.Who.ContactID != want {
				t.Fatalf("survivor %s (who %s), want %s", got, last.Who.ContactID, want)
			}
		},
	}, {
		name:   "rule 2: BSUID only gets the phone known from identity",
		events: []Facts{{At: 100, BSUID: b1, Phone: p1}, {At: 200, BSUID: b1}},
		check: func(t *testing.T, s *Store, last Resolution) {
			w := last.Who
			if w.ContactID != contactOf(t, s, KeyBSUID, b1) || str(w.Phone) != p1 || w.PhoneSource != "identity" {
				t.Fatalf("who = %+v phone %s", w, str(w.Phone))
			}
		},
	}, {
		name:   "rule 2: an unseen BSUID is a new contact without a phone",
		events: []Facts{{At: 100, BSUID: b1, Phone: p1}, {At: 200, BSUID: b2}},
		check: func(t *testing.T, s *Store, last Resolution) {
			w := last.Who
			if w.ContactID != ContactID(tenant, KeyBSUID, b2) || w.Phone != nil || w.PhoneSource != "" || w.BSUID != b2 {
				t.Fatalf("who = %+v", w)
			}
		},
	}, {
		name:   "rule 3: phone only resolves to the phone's contact",
		events: []Facts{{At: 100, BSUID: b1, Phone: p1}, {At: 200, Phone: p1}},
		check: func(t *testing.T, s *Store, last Resolution) {
			w := last.Who
			if w.ContactID != ContactID(tenant, KeyBSUID, b1) || w.BSUID != b1 || w.PhoneSource != "webhook" {
				t.Fatalf("who = %+v", w)
			}
		},
	},
	})
}
