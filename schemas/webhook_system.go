package schemas

// System message types (System.Type) that change who a user is.
const (
	SystemUserChangedNumber = "user_changed_number"
	SystemUserChangedUserID = "user_changed_user_id"
	// SystemCustomerChangedNumber is the older name of user_changed_number.
	SystemCustomerChangedNumber = "customer_changed_number"
	// SystemCustomerIdentityChanged is an identity-key change; it changes no id.
	SystemCustomerIdentityChanged = "customer_identity_changed"
)

// System is the body of a messages[] element of type "system": a notice that the
// user changed phone number or BSUID. Three generations exist:
//   - pre-BSUID: Body, Type, WaID (new number), Customer (old number); messages[].from
//     holds the old number too;
//   - M1 (May 2026): adds UserID and ParentUserID (the new ones), WaID may be left out;
//   - M2 (Aug 2026): adds PreviousUserID and PreviousParentUserID.
type System struct {
	Body                 string `json:"body"` // "User <name> changed from <old> to <new>"
	Type                 string `json:"type"`
	WaID                 string `json:"wa_id"`
	Customer             string `json:"customer"`
	UserID               string `json:"user_id"`
	ParentUserID         string `json:"parent_user_id"`
	PreviousUserID       string `json:"previous_user_id"`
	PreviousParentUserID string `json:"previous_parent_user_id"`
	Identity             string `json:"identity"`
}

// KeyIdentity is messages[].identity, sent with customer_identity_changed.
type KeyIdentity struct {
	Acknowledged     bool   `json:"acknowledged"`
	CreatedTimestamp Number `json:"created_timestamp"`
	Hash             string `json:"hash"`
}
