package decode

import "github.com/wapipe/wapipe/schemas"

// noContact is what an event without a matching contacts[] entry reads from.
var noContact schemas.Contact

// matchContact finds the value.contacts[] entry of the user an event concerns.
// Contacts are matched by BSUID, then by phone, never by array position: a
// batched body may list its contacts in any order (whatsapp-webhooks.md §10).
// A lone contact is taken only for an event that names no user itself and is
// the only event of its change (lone): in a batch, a status without a contact
// (failed statuses have none) must not borrow its neighbour's.
func matchContact(contacts []schemas.Contact, bsuid, phone string, lone bool) *schemas.Contact {
	if bsuid != "" {
		for i := range contacts {
			if contacts[i].UserID == bsuid {
				return &contacts[i]
			}
		}
	}
	if phone != "" {
		for i := range contacts {
			// A contact with another BSUID is another user, whatever its phone.
			if contacts[i].WaID == phone && (bsuid == "" || contacts[i].UserID == "") {
				return &contacts[i]
			}
		}
	}
	if lone && bsuid == "" && phone == "" && len(contacts) == 1 {
		return &contacts[0]
	}
	return &noContact
}
