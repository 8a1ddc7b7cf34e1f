package decode

import (
	"strings"

	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/schemas"
)

// status turns a statuses[] element of the messages field into a status event.
// A status may name nobody (a failed send to a phone has no contacts and no
// BSUID); it stays valid, because the resolver joins it through the message id.
func (b *builder) status(i int, s *schemas.Status) {
	st := strings.ToLower(s.Status)
	switch st {
	case "sent", "delivered", "read", "played", "failed":
	case "": // reported below, after a missing id or an undecodable element
	default:
		b.d.unknown(UnknownStatus, s.Status)
		return
	}
	ev, c := b.open(model.KindStatus, s.ID, b.rejected.reason(b.rejected.statuses, i))
	if st == "" {
		c.fail("missing status")
	}
	ev.Status = st
	ev.DedupeKey = s.ID + "|" + st
	ev.At = c.time("timestamp", s.Timestamp, true)
	ev.User = b.recipient(&c, s)
	ev.ErrorCode = c.errorCode("errors[0].code", s.Errors)
	if p := s.Pricing; p != nil {
		ev.Pricing = &model.Pricing{
			Model:    p.PricingModel,
			Type:     strings.ToLower(p.Type),
			Category: normalizeCategory(p.Category),
			Billable: p.Billable,
		}
	}
	if cv := s.Conversation; cv != nil {
		ev.Conversation = &model.Conversation{ID: cv.ID, OriginType: normalizeCategory(cv.Origin.Type)}
	}
	b.close(&c, "statuses", i)
}

// callStatus turns a statuses[] element of the calls field (a business-initiated
// call ringing, accepted or rejected) into a call event.
func (b *builder) callStatus(i int, s *schemas.Status) {
	st := strings.ToUpper(s.Status)
	switch st {
	case "RINGING", "ACCEPTED", "REJECTED":
	case "": // reported below, after a missing id or an undecodable element
	default:
		b.d.unknown(UnknownCallStatus, s.Status)
		return
	}
	ev, c := b.open(model.KindCall, s.ID, b.rejected.reason(b.rejected.statuses, i))
	if st == "" {
		c.fail("missing status")
	}
	ev.CallEvent = "status"
	ev.Status = st
	ev.Direction = schemas.BusinessInitiated
	ev.DedupeKey = s.ID + "|" + st
	ev.At = c.time("timestamp", s.Timestamp, true)
	ev.User = b.recipient(&c, s)
	ev.ErrorCode = c.errorCode("errors[0].code", s.Errors)
	b.close(&c, "statuses", i)
}

// recipient is the user a status concerns: the status's own fields first, then
// its contacts[] entry. A group status names the group in recipient_id, so the
// user is the participant, when the status names one.
func (b *builder) recipient(c *check, s *schemas.Status) model.Identity {
	var u model.Identity
	if strings.EqualFold(s.RecipientType, "group") {
		u.BSUID = c.bsuid("recipient_participant_user_id", s.RecipientParticipantUserID)
		u.ParentBSUID = c.bsuid("recipient_participant_parent_user_id", s.RecipientParticipantParentUserID)
		u.Phone = c.phone("recipient_participant_id", s.RecipientParticipantID)
	} else {
		u.BSUID = c.bsuid("recipient_user_id", s.RecipientUserID)
		u.ParentBSUID = c.bsuid("recipient_parent_user_id", s.RecipientParentUserID)
		if u.ParentBSUID == "" {
			// The name until May 5 2026; some providers still send it.
			u.ParentBSUID = c.bsuid("parent_recipient_user_id", s.ParentRecipientUserID)
		}
		u.Phone = c.phone("recipient_id", s.RecipientID)
	}
	ct := b.contactOf(u.BSUID, u.Phone)
	u.Username, u.ProfileName = ct.Profile.Username, ct.Profile.Name
	contactFacts(c, &u, ct)
	return u
}

// normalizeCategory normalizes a pricing category or conversation origin type: lower
// case, and Meta's two spellings of authentication-international made one.
func normalizeCategory(s string) string {
	s = strings.ToLower(s)
	if s == "authentication-international" {
		return "authentication_international"
	}
	return s
}
