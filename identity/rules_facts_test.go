package identity

import "testing"

// Contract section 4, rules 4-7 and parent BSUIDs: usernames, contact requests,
// identity changes and out-of-order events.
func TestRulesFacts(t *testing.T) {
	runRules(t, []ruleCase{
		{
			name: "rule 4: a username seen later on another contact moves there",
			events: []Facts{
				{At: 100, BSUID: b1, Username: "@ana"},
				{At: 200, BSUID: b2, Username: "@Ana"},
			},
			check: func(t *testing.T, s *Store, last Resolution) {
				c1, c2 := ContactID(tenant, KeyBSUID, b1), ContactID(tenant, KeyBSUID, b2)
				if got := contactOf(t, s, KeyUsername, "@ANA"); got != c2 {
					t.Fatalf("username -> %s, want %s", got, c2)
				}
				if c := contact(t, s, c1); c.Username != "" {
					t.Errorf("old contact still has username %q", c.Username)
				}
				if c := contact(t, s, c2); c.Username != "@Ana" {
					t.Errorf("new contact username %q", c.Username)
				}
				if rows := identityRows(last); rows[c1] == nil || rows[c1].Username != nil {
					t.Errorf("old contact's identities row = %+v", rows[c1])
				}
				if k := keyRows(last); k["username @ana"] != c2 {
					t.Errorf("key rows = %v", k)
				}
			},
		}, {
			name:   "rule 4: a new username replaces the old one; the old still resolves",
			events: []Facts{{At: 100, BSUID: b1, Username: "@ana"}, {At: 200, BSUID: b1, Username: "@ana.b"}},
			check: func(t *testing.T, s *Store, last Resolution) {
				id := contactOf(t, s, KeyBSUID, b1)
				if contact(t, s, id).Username != "@ana.b" || contactOf(t, s, KeyUsername, "@ana") != id {
					t.Fatalf("contact = %+v", contact(t, s, id))
				}
			},
		}, {
			name: "rule 5: a contact_request phone becomes the contact's phone",
			events: []Facts{
				{At: 100, BSUID: b1},
				{At: 200, BSUID: b1, Phone: p1, PhoneSource: "contact_request"},
				{At: 300, BSUID: b1},
			},
			check: func(t *testing.T, s *Store, last Resolution) {
				id := contactOf(t, s, KeyBSUID, b1)
				if c := contact(t, s, id); c.Phone != p1 || c.PhoneSource != "contact_request" || contactOf(t, s, KeyPhone, p1) != id {
					t.Fatalf("contact = %+v", c)
				}
				if str(last.Who.Phone) != p1 || last.Who.PhoneSource != "identity" {
					t.Fatalf("who = %+v", last.Who)
				}
			},
		}, {
			name: "rule 5: a shared phone known from legacy traffic merges into the older contact",
			events: []Facts{
				{At: 100, Phone: p1},
				{At: 200, BSUID: b1},
				{At: 300, BSUID: b1, Phone: p1, PhoneSource: "contact_request"},
			},
			check: func(t *testing.T, s *Store, last Resolution) {
				id := ContactID(tenant, KeyPhone, p1)
				if c := contact(t, s, id); c.BSUID != b1 || c.Phone != p1 || c.PhoneSource != "contact_request" || last.Who.ContactID != id {
					t.Fatalf("contact = %+v, who = %+v", c, last.Who)
				}
			},
		}, {
			// user_changed_user_id: a new BSUID means a new number, which the user could not
			// share. The old number keeps resolving to the contact but is no longer its phone,
			// so later rows do not get it (and "contacts without a phone" finds the user).
			name: "rule 6: a BSUID change with previous_user_id keeps the contact, and its phone is unknown since",
			events: []Facts{
				{At: 100, BSUID: b1, Phone: p1},
				{At: 200, BSUID: b2, PreviousBSUID: b1},
				{At: 300, BSUID: b2},
				{At: 150, BSUID: b1, Phone: p1}, // older traffic, late: does not bring the old number back
			},
			check: func(t *testing.T, s *Store, last Resolution) {
				id := ContactID(tenant, KeyBSUID, b1)
				for _, k := range [][2]string{{KeyBSUID, b1}, {KeyBSUID, b2}, {KeyPhone, p1}} {
					if got := contactOf(t, s, k[0], k[1]); got != id {
						t.Fatalf("%s %s -> %s, want %s", k[0], k[1], got, id)
					}
				}
				if c := contact(t, s, id); c.BSUID != b2 || c.Phone != "" || c.PhoneSource != "" {
					t.Fatalf("contact = %+v", c)
				}
				if who := resolve(t, s, Facts{At: 400, BSUID: b2}).Who; who.Phone != nil {
					t.Fatalf("who = %+v", who)
				}
				resolve(t, s, Facts{At: 500, BSUID: b2, Phone: p2}) // the new number, shown later
				if c := contact(t, s, id); c.Phone != p2 || c.PhoneSource != "webhook" {
					t.Fatalf("after the new number showed: %+v", c)
				}
			},
		}, {
			name: "rule 6: a number change arriving after the new BSUID's traffic merges into the old contact",
			events: []Facts{
				{At: 100, BSUID: b1, Phone: p1},
				{At: 250, BSUID: b2},
				{At: 200, BSUID: b2, Phone: p2, PreviousBSUID: b1, PreviousPhone: p1},
			},
			check: func(t *testing.T, s *Store, last Resolution) {
				id := ContactID(tenant, KeyBSUID, b1)
				for _, k := range [][2]string{{KeyBSUID, b1}, {KeyBSUID, b2}, {KeyPhone, p1}, {KeyPhone, p2}} {
					if got := contactOf(t, s, k[0], k[1]); got != id {
						t.Errorf("%s %s -> %s, want %s", k[0], k[1], got, id)
					}
				}
				if c := contact(t, s, id); c.BSUID != b2 || c.Phone != p2 || c.PhoneSource != "system" || c.LastSeen != 250 {
					t.Errorf("contact = %+v", c)
				}
			},
		}, {
			name: "rule 7: an older event does not overwrite newer facts but links its keys",
			events: []Facts{
				{At: 300, BSUID: b1, Phone: p2, Username: "@new", ProfileName: "New"},
				{At: 100, BSUID: b1, Phone: p1, Username: "@old", ProfileName: "Old"},
			},
			check: func(t *testing.T, s *Store, last Resolution) {
				id := contactOf(t, s, KeyBSUID, b1)
				c := contact(t, s, id)
				if c.Phone != p2 || c.Username != "@new" || c.ProfileName != "New" || c.FirstSeen != 100 || c.LastSeen != 300 {
					t.Fatalf("contact = %+v", c)
				}
				if contactOf(t, s, KeyPhone, p1) != id || contactOf(t, s, KeyUsername, "@old") != id {
					t.Fatalf("old keys not linked")
				}
				if str(last.Who.Phone) != p1 || last.Who.PhoneSource != "webhook" {
					t.Fatalf("the event's own phone belongs on its row: %+v", last.Who)
				}
			},
		}, {
			name: "rule 7: an old event does not take back a username that moved",
			events: []Facts{
				{At: 200, BSUID: b2, Username: "@ana"},
				{At: 100, BSUID: b1, Username: "@ana"},
			},
			check: func(t *testing.T, s *Store, last Resolution) {
				if got := contactOf(t, s, KeyUsername, "@ana"); got != ContactID(tenant, KeyBSUID, b2) {
					t.Fatalf("username -> %s", got)
				}
				if c := contact(t, s, ContactID(tenant, KeyBSUID, b1)); c.Username != "" {
					t.Fatalf("old claimant got the username: %+v", c)
				}
			},
		}, {
			name: "parent BSUID: linked when unseen, never merges",
			events: []Facts{
				{At: 100, BSUID: b1, ParentBSUID: "US.ENT.9"},
				{At: 200, BSUID: b2, ParentBSUID: "US.ENT.9"},
			},
			check: func(t *testing.T, s *Store, last Resolution) {
				c1, c2 := ContactID(tenant, KeyBSUID, b1), ContactID(tenant, KeyBSUID, b2)
				if last.Who.ContactID != c2 || contactOf(t, s, KeyParentBSUID, "US.ENT.9") != c1 {
					t.Fatalf("who %s, parent -> %s", last.Who.ContactID, contactOf(t, s, KeyParentBSUID, "US.ENT.9"))
				}
				if c := contact(t, s, c2); c.ParentBSUID != "US.ENT.9" || c.MergedInto != "" {
					t.Fatalf("contact 2 = %+v", c)
				}
			},
		},
	})
}
