package identity

import (
	"fmt"
	"testing"
)

// A status names the recipient the business wrote to. After a change of number, statuses
// of messages sent before it still name the old BSUID and phone, with later timestamps:
// they must not make the identity the user left current again (contract section 6:
// after a BSUID change identities.bsuid is the new BSUID), in whatever order they arrive.
func TestAddressedTrafficNeverRevivesAnIdentityTheUserLeft(t *testing.T) {
	events := []Facts{
		{At: 100, BSUID: b1, Phone: p1},                                       // inbound
		{At: 200, BSUID: b2, Phone: p2, PreviousBSUID: b1, PreviousPhone: p1}, // user_changed_number
		{At: 300, BSUID: b1, Addressed: true},                                 // delivered, to the old BSUID
		{At: 400, Phone: p1, Addressed: true},                                 // failed, to the old phone
	}
	for _, order := range permutations(len(events)) {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			s := newStore(t)
			for _, i := range order {
				resolve(t, s, events[i])
			}
			id := contactOf(t, s, KeyBSUID, b1)
			c := contact(t, s, id)
			if c.BSUID != b2 || c.Phone != p2 || c.PhoneSource != "system" {
				t.Fatalf("contact = %+v, want bsuid %s and phone %s from the change notice", c, b2, p2)
			}
			if contactOf(t, s, KeyPhone, p1) != id || contactOf(t, s, KeyBSUID, b2) != id {
				t.Fatal("the old keys no longer resolve to the contact")
			}
			// A report row of later traffic without a phone gets the current one.
			if who := resolve(t, s, Facts{At: 500, BSUID: b2}).Who; str(who.Phone) != p2 || who.PhoneSource != "identity" {
				t.Fatalf("who = %+v", who)
			}
		})
	}
}

// Until the user's own traffic says otherwise, what the business addressed is all there
// is: a status that carries the phone of a BSUID-only contact gives it that phone.
func TestAddressedTrafficFillsWhatNothingElseSaid(t *testing.T) {
	s := newStore(t)
	resolve(t, s, Facts{At: 100, BSUID: b1, Username: "@ana"})
	resolve(t, s, Facts{At: 200, BSUID: b1, Phone: p1, Addressed: true})
	id := contactOf(t, s, KeyBSUID, b1)
	if c := contact(t, s, id); c.Phone != p1 || c.PhoneSource != "webhook" {
		t.Fatalf("after the status: %+v", c)
	}
	resolve(t, s, Facts{At: 150, BSUID: b1, Phone: p2}) // the user's own message, older
	if c := contact(t, s, id); c.Phone != p2 {
		t.Fatalf("the user's own phone does not replace the addressed one: %+v", c)
	}
}

// permutations returns every order of 0..n-1.
func permutations(n int) [][]int {
	if n == 1 {
		return [][]int{{0}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}
