package schemas

// Status is an element of value.statuses[]. On the messages field it reports an
// outbound message (sent, delivered, read, played, failed); on the calls field
// (Type "call") a business-initiated call (RINGING, ACCEPTED, REJECTED).
//
// The recipient's BSUID is RecipientUserID; the parent BSUID was renamed on
// May 5 2026 from ParentRecipientUserID to RecipientParentUserID, and both
// spellings still arrive. RecipientID is the phone, or the group id when
// RecipientType is "group".
type Status struct {
	ID                    string `json:"id"`
	Type                  string `json:"type"`
	Status                string `json:"status"`
	Timestamp             Number `json:"timestamp"`
	RecipientType         string `json:"recipient_type"`
	RecipientID           string `json:"recipient_id"`
	RecipientUserID       string `json:"recipient_user_id"`
	RecipientParentUserID string `json:"recipient_parent_user_id"`
	ParentRecipientUserID string `json:"parent_recipient_user_id"`

	RecipientParticipantID           string `json:"recipient_participant_id"`
	RecipientParticipantUserID       string `json:"recipient_participant_user_id"`
	RecipientParticipantParentUserID string `json:"recipient_participant_parent_user_id"`
	RecipientIdentityKeyHash         string `json:"recipient_identity_key_hash"`

	BizOpaqueCallbackData string        `json:"biz_opaque_callback_data"`
	Conversation          *Conversation `json:"conversation"`
	Pricing               *Pricing      `json:"pricing"`
	Errors                []Error       `json:"errors"`
}

// Pricing is statuses[].pricing. Category is spelled "authentication-international"
// in Meta's pricing table; the decoder normalizes it.
type Pricing struct {
	Billable     *bool  `json:"billable"` // deprecated by Meta, still sent
	PricingModel string `json:"pricing_model"`
	Type         string `json:"type"`
	Category     string `json:"category"`
}

// Conversation is statuses[].conversation: left out since v24.0 except inside a
// free-entry-point window. Origin.Type uses "authentication_international".
type Conversation struct {
	ID     string `json:"id"`
	Origin struct {
		Type string `json:"type"`
	} `json:"origin"`
	ExpirationTimestamp Number `json:"expiration_timestamp"`
}
