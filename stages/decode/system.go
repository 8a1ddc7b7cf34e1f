package decode

import (
	"strings"

	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/schemas"
)

// system turns a number or BSUID change notice into an identity change. User
// holds the new identity, Previous* the old one. Three generations of the notice
// exist (see schemas.System); each field is read where its generation puts it.
func (b *builder) system(i int, m *schemas.Message) {
	s := m.System
	if s == nil {
		s = &schemas.System{}
	}
	switch s.Type {
	case schemas.SystemUserChangedNumber, schemas.SystemUserChangedUserID, schemas.SystemCustomerChangedNumber:
	default:
		// customer_identity_changed (a new identity key) and unknown notices
		// change no id the reports use.
		b.d.unknown(UnknownSystemType, s.Type)
		return
	}
	ev, c := b.open(model.KindIdentityChange, m.ID, b.rejected.reason(b.rejected.messages, i))
	ev.DedupeKey = m.ID
	ev.At = c.time("timestamp", m.Timestamp, true)
	ev.ChangeType = s.Type
	oldID, newID := bsuidsInBody(s.Body)

	ev.User.BSUID = c.bsuid("system.user_id", s.UserID)
	if ev.User.BSUID == "" {
		ev.User.BSUID = newID
	}
	ev.User.ParentBSUID = c.bsuid("system.parent_user_id", s.ParentUserID)
	ev.User.Phone = c.phone("system.wa_id", s.WaID)

	ev.PreviousBSUID = c.bsuid("system.previous_user_id", s.PreviousUserID)
	if ev.PreviousBSUID == "" {
		ev.PreviousBSUID = oldID
	}
	if ev.PreviousBSUID == "" && m.FromUserID != ev.User.BSUID {
		// Like from holding the old number in the pre-BSUID notice, the sender's
		// BSUID of the notice is the one being replaced.
		ev.PreviousBSUID = c.bsuid("from_user_id", m.FromUserID)
	}
	ev.PreviousParentBSUID = c.bsuid("system.previous_parent_user_id", s.PreviousParentUserID)
	ev.PreviousPhone = c.phone("from", m.From)
	if ev.PreviousPhone == "" {
		ev.PreviousPhone = c.phone("system.customer", s.Customer)
	}

	ct := b.contactOf(ev.User.BSUID, ev.User.Phone)
	ev.User.Username, ev.User.ProfileName = ct.Profile.Username, ct.Profile.Name
	requireChange(&c, ev)
	b.close(&c, "messages", i)
}

// userIDUpdate turns an element of the older user_id_update field into an
// identity change. It has no id of its own, so its dedupe key is made of the
// pair of BSUIDs it links.
func (b *builder) userIDUpdate(i int, u *schemas.UserIDUpdate) {
	ev, c := b.openUnnamed(model.KindIdentityChange, b.rejected.reason(b.rejected.updates, i))
	ev.At = c.time("timestamp", u.Timestamp, true)
	ev.ChangeType = schemas.FieldUserIDUpdate
	ev.User.BSUID = c.bsuid("user_id.current", u.UserID.Current)
	ev.User.ParentBSUID = c.bsuid("parent_user_id.current", u.ParentUserID.Current)
	ev.User.Phone = c.phone("wa_id", u.WaID)
	ev.PreviousBSUID = c.bsuid("user_id.previous", u.UserID.Previous)
	ev.PreviousParentBSUID = c.bsuid("parent_user_id.previous", u.ParentUserID.Previous)
	if u.UserID.Previous == "" || u.UserID.Current == "" {
		c.fail("user_id needs both previous and current")
	}
	ev.DedupeKey = "uidu|" + u.UserID.Previous + "|" + u.UserID.Current
	ct := b.contactOf(ev.User.BSUID, ev.User.Phone)
	ev.User.Username, ev.User.ProfileName = ct.Profile.Username, ct.Profile.Name
	b.close(&c, "user_id_update", i)
}

// requireChange fails an identity change that does not link an old identity to
// a new one: it could not update anything.
func requireChange(c *check, ev *model.Event) {
	if ev.User.BSUID == "" && ev.User.Phone == "" {
		c.fail("identity change names no new BSUID or phone")
	}
	if ev.PreviousBSUID == "" && ev.PreviousPhone == "" {
		c.fail("identity change names no previous BSUID or phone")
	}
}

// bsuidsInBody reads "User <name> changed from <old> to <new>" for notices that
// carry the BSUIDs only in their text. Values that are not BSUIDs (old notices
// name phone numbers in a display format) are ignored.
func bsuidsInBody(body string) (old, new string) {
	const from, to = " changed from ", " to "
	k := strings.LastIndex(body, from)
	if k < 0 {
		return "", ""
	}
	a, z, ok := strings.Cut(body[k+len(from):], to)
	if !ok {
		return "", ""
	}
	a, z = strings.TrimSpace(a), strings.TrimSpace(z)
	if !validBSUID(a) || !validBSUID(z) {
		return "", ""
	}
	return a, z
}
