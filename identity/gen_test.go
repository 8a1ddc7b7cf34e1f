package identity

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// randomFacts is a reproducible stream of events over a few users in two tenants: every
// shape the decoder produces (BSUID and/or phone, usernames that move between users,
// parent BSUIDs, contact requests, number and BSUID changes), with times out of order
// and repeats.
func randomFacts(seed uint64, n, users int) []Facts {
	rng := rand.New(rand.NewPCG(seed, 7))
	type user struct {
		tenant, bsuid, phone, name string
		gen                        int
	}
	us := make([]user, users)
	for i := range us {
		us[i] = user{tenant: fmt.Sprintf("t%d", i%2), bsuid: fmt.Sprintf("BR.%d0", i),
			phone: fmt.Sprintf("55119%05d0", i), name: fmt.Sprintf("@user%d", i%(users/2+1))}
	}
	var out []Facts
	for len(out) < n {
		u := &us[rng.IntN(users)]
		f := Facts{Tenant: u.tenant, At: 1_700_000_000 + int64(rng.IntN(1000))}
		switch rng.IntN(10) {
		case 0: // a number and BSUID change
			u.gen++
			f.PreviousBSUID, f.PreviousPhone = u.bsuid, u.phone
			u.bsuid, u.phone = fmt.Sprintf("%s%d", strings.TrimRight(u.bsuid, "0123456789"), rng.Uint32()), fmt.Sprintf("55%d", rng.Uint32())
			f.BSUID, f.Phone = u.bsuid, u.phone
			if rng.IntN(2) == 0 { // user_changed_user_id: the new number cannot be shared
				f.Phone, f.PreviousPhone = "", ""
			}
		case 1: // a contact request
			f.BSUID, f.Phone, f.PhoneSource = u.bsuid, u.phone, "contact_request"
		case 2, 3:
			f.Phone = u.phone
		case 4, 5:
			f.BSUID, f.Phone = u.bsuid, u.phone
		default:
			f.BSUID = u.bsuid
		}
		if rng.IntN(3) == 0 {
			f.Username = u.name
			if rng.IntN(2) == 0 {
				f.Username = strings.ToUpper(u.name)
			}
		}
		if f.BSUID != "" && rng.IntN(4) == 0 {
			f.ParentBSUID = fmt.Sprintf("BR.ENT.%d", rng.IntN(users))
		}
		if rng.IntN(2) == 0 {
			f.ProfileName = fmt.Sprintf("Name %d", rng.IntN(3))
		}
		if !f.change() && rng.IntN(4) == 0 { // a status or a call the business placed
			f.Addressed, f.Username, f.ProfileName = true, "", ""
		}
		out = append(out, f)
		if rng.IntN(8) == 0 { // redelivery
			out = append(out, f)
		}
	}
	return out[:n]
}
