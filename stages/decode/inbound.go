package decode

import (
	"strings"

	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/schemas"
)

// message turns one messages[] element into an inbound event, or an identity
// change when it is a number or BSUID change notice.
func (b *builder) message(i int, m *schemas.Message) {
	if m.Type == "system" {
		b.system(i, m)
		return
	}
	ev, c := b.open(model.KindInbound, m.ID, b.rejected.reason(b.rejected.messages, i))
	ev.DedupeKey = m.ID
	ev.At = c.time("timestamp", m.Timestamp, true)
	ev.MessageType = m.Type
	if m.Type == "" {
		c.fail("missing type")
	} else if !knownMessageType(m.Type) {
		// Kept: a user's message of a type this code does not know yet is still a
		// message in the chat report. Counted so that new types get noticed.
		b.d.unknown(UnknownMessageType, m.Type)
	}
	ev.User = b.sender(&c, m)
	if ev.User.BSUID == "" && ev.User.Phone == "" {
		c.fail("no sender identity (no from_user_id, from, or matching contact)")
	}
	if m.Referral != nil {
		ev.Referral = referral(m.Referral)
	}
	if m.Type == "contacts" {
		ev.SharedPhone = sharedPhone(&c, m.Contacts)
	}
	b.close(&c, "messages", i)
}

// sender is the user a message came from: the message's own fields first, then
// its contacts[] entry, matched by BSUID, then phone.
func (b *builder) sender(c *check, m *schemas.Message) model.Identity {
	ct := b.contactOf(m.FromUserID, m.From)
	u := model.Identity{
		BSUID:       c.bsuid("from_user_id", m.FromUserID),
		ParentBSUID: c.bsuid("from_parent_user_id", m.FromParentUserID),
		Phone:       c.phone("from", m.From),
		Username:    ct.Profile.Username,
		ProfileName: ct.Profile.Name,
	}
	contactFacts(c, &u, ct)
	return u
}

// contactFacts fills what the event itself left out from its contacts[] entry.
func contactFacts(c *check, u *model.Identity, ct *schemas.Contact) {
	if u.BSUID == "" {
		u.BSUID = c.bsuid("contacts[].user_id", ct.UserID)
	}
	if u.ParentBSUID == "" {
		u.ParentBSUID = c.bsuid("contacts[].parent_user_id", ct.ParentUserID)
	}
	if u.Phone == "" {
		u.Phone = c.phone("contacts[].wa_id", ct.WaID)
	}
}

// sharedPhone is the user's own number from a contacts message sent in answer
// to the business's request (origin "contact_request"). A hand-shared card
// (origin "other") may be anyone's number and says nothing about the sender.
func sharedPhone(c *check, cards []schemas.SharedContact) string {
	for k := range cards {
		if !strings.EqualFold(cards[k].Origin, "contact_request") || len(cards[k].Phones) == 0 {
			continue
		}
		p := &cards[k].Phones[0]
		if p.WaID != "" {
			return c.phone("contacts[].phones[0].wa_id", p.WaID)
		}
		if p.Phone != "" {
			return c.cardPhone("contacts[].phones[0].phone", p.Phone)
		}
	}
	return ""
}

func referral(r *schemas.Referral) *model.Referral {
	return &model.Referral{
		SourceID:   r.SourceID,
		SourceType: r.SourceType,
		SourceURL:  r.SourceURL,
		Headline:   r.Headline,
		Body:       r.Body,
		MediaType:  r.MediaType,
		CtwaClid:   r.CtwaClid,
	}
}

// knownMessageType lists the inbound types Meta documents, "unknown" being the
// older name of "unsupported".
func knownMessageType(t string) bool {
	switch t {
	case "text", "image", "audio", "video", "document", "sticker", "location", "contacts",
		"interactive", "button", "reaction", "order", "edit", "revoke", "unsupported", "unknown",
		"request_welcome":
		return true
	}
	return false
}
