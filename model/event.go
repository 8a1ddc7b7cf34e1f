// Package model holds the normalized event that every stage after decoding works on,
// and the report rows the sinks write. It has no behaviour and no dependencies, so
// stages, sinks and tests can share it without importing each other.
package model

// Kind says what a normalized event describes.
type Kind uint8

const (
	// KindInbound is a message the user sent to the business (messages[] on field "messages").
	KindInbound Kind = iota + 1
	// KindStatus is a status of a message the business sent (statuses[] on field "messages").
	KindStatus
	// KindCall is a call event: connect/terminate (calls[]) or a business-initiated
	// call status (statuses[] on field "calls").
	KindCall
	// KindIdentityChange is a BSUID or phone-number change: a system message
	// (user_changed_number, user_changed_user_id, customer_changed_number) or the
	// older user_id_update field. It writes no report row.
	KindIdentityChange
)

func (k Kind) String() string {
	switch k {
	case KindInbound:
		return "inbound"
	case KindStatus:
		return "status"
	case KindCall:
		return "call"
	case KindIdentityChange:
		return "identity_change"
	}
	return "unknown"
}

// Phone sources, as written to phone_source columns (contract section 6).
const (
	PhoneFromWebhook        = "webhook"
	PhoneFromIdentity       = "identity"
	PhoneFromContactRequest = "contact_request"
	PhoneFromSystem         = "system"
)

// Identity is what one event says about the user it concerns. Empty strings mean
// "not in this payload"; they never mean "the user has none".
type Identity struct {
	BSUID       string // contacts[].user_id, from_user_id, recipient_user_id, ...
	ParentBSUID string // parent_user_id, from_parent_user_id, recipient_parent_user_id
	Phone       string // digits only: wa_id, from, recipient_id
	Username    string // contacts[].profile.username, exactly as received
	ProfileName string // contacts[].profile.name
}

// Event is one normalized fact from a webhook body. One body fans out into many events.
type Event struct {
	Kind          Kind
	Tenant        string // business portfolio; the WABA id unless --tenant-map says otherwise
	WABA          string // entry[].id
	PhoneNumberID string // value.metadata.phone_number_id
	At            int64  // event time, unix seconds, from the webhook
	DedupeKey     string // message id; message id + "|" + status; call id + "|" + event or status
	ID            string // wamid or wacid
	User          Identity

	// Inbound messages.
	MessageType string    // text, image, contacts, interactive, ...
	Referral    *Referral // Click-to-WhatsApp ad, when the message came through one
	// SharedPhone is the phone from a contacts message with origin contact_request:
	// the user's own number, shared on the business's request (contract 4, rule 5).
	SharedPhone string

	// Outbound statuses and business-initiated call statuses.
	Status       string // lower case for messages (sent, delivered, read, played, failed); upper case for calls
	ErrorCode    *int32
	Pricing      *Pricing
	Conversation *Conversation

	// Calls.
	CallEvent string // connect, terminate, or "status" for statuses[] on the calls field
	Direction string // USER_INITIATED or BUSINESS_INITIATED
	StartTime int64  // unix seconds, 0 when absent
	EndTime   int64
	Duration  uint32

	// Identity changes. User holds the new BSUID/phone; Previous* the old ones.
	ChangeType          string // user_changed_number, user_changed_user_id, customer_changed_number, user_id_update
	PreviousBSUID       string
	PreviousParentBSUID string
	PreviousPhone       string
}

// Referral is the Click-to-WhatsApp ad object of an inbound message.
type Referral struct {
	SourceID   string
	SourceType string
	SourceURL  string
	Headline   string
	Body       string
	MediaType  string
	CtwaClid   string
}

// Pricing is statuses[].pricing. Category is normalized (authentication-international
// becomes authentication_international, lower case).
type Pricing struct {
	Model    string // PMP or CBP
	Type     string // regular, free_customer_service, free_entry_point
	Category string
	Billable *bool
}

// Conversation is statuses[].conversation, present on older API versions and in
// free-entry-point windows.
type Conversation struct {
	ID         string
	OriginType string // normalized like Pricing.Category
}

// Invalid describes one event of a body that failed validation; the body is
// dead-lettered with these reasons while its valid events go on.
type Invalid struct {
	Where  string // the event's id, or its position such as entry[0].changes[1].messages[2]
	Reason string
}

func (i Invalid) String() string { return i.Where + ": " + i.Reason }
