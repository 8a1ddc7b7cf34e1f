// Package schemas holds the wire types of the WhatsApp Cloud API webhook as Meta
// (and providers relaying it) send it, with every documented spelling of each field
// (see shared/docs/whatsapp-webhooks.md, section 11).
//
// The types only describe the wire: they carry no behaviour and no validation, so
// any JSON decoder can fill them. Unknown fields are meant to be ignored. Fields
// that arrive as a string on some webhooks and as a number on others (timestamps,
// durations, error codes) are json.Number, which accepts both forms; the decoder
// parses and validates them.
package schemas

import "encoding/json"

// Object is the only value of Webhook.Object this pipeline accepts.
const Object = "whatsapp_business_account"

// Change fields (Change.Field) that carry report data. Every other field is
// ignored by the decoder.
const (
	FieldMessages = "messages"
	FieldCalls    = "calls"
	// FieldUserIDUpdate is the older BSUID-change field (M1, Mar-May 2026). Meta
	// later folded it into system messages, but some providers still forward it.
	FieldUserIDUpdate = "user_id_update"
)

// Webhook is one POST body.
type Webhook struct {
	Object string  `json:"object"`
	Entry  []Entry `json:"entry"`
}

// Entry groups the changes of one WhatsApp Business Account.
type Entry struct {
	ID      string   `json:"id"` // the WABA id
	Time    Number   `json:"time"`
	Changes []Change `json:"changes"`
}

// Change is one webhook field's payload.
type Change struct {
	Field string `json:"field"`
	Value Value  `json:"value"`
}

// Value is the union of the value objects of the fields the reports use:
// messages (Messages, Statuses), calls (Calls, Statuses) and user_id_update.
type Value struct {
	MessagingProduct string         `json:"messaging_product"`
	Metadata         Metadata       `json:"metadata"`
	Contacts         []Contact      `json:"contacts"`
	Messages         []Message      `json:"messages"`
	Statuses         []Status       `json:"statuses"`
	Calls            []Call         `json:"calls"`
	UserIDUpdates    []UserIDUpdate `json:"user_id_update"`
	Errors           []Error        `json:"errors"`
}

// Metadata names the business phone number the change belongs to.
type Metadata struct {
	DisplayPhoneNumber string `json:"display_phone_number"`
	PhoneNumberID      string `json:"phone_number_id"`
}

// Contact is one entry of value.contacts[]: the user a message came from, a
// status went to, or a call involved. Since BSUIDs, WaID is left out when Meta
// will not share the phone, and UserID is always present.
type Contact struct {
	Profile         Profile `json:"profile"`
	WaID            string  `json:"wa_id"`
	UserID          string  `json:"user_id"`
	ParentUserID    string  `json:"parent_user_id"`
	IdentityKeyHash string  `json:"identity_key_hash"`
}

// Profile is contacts[].profile. Username keeps the "@" Meta sends.
type Profile struct {
	Name     string `json:"name"`
	Username string `json:"username"`
}

// Error is an element of errors[] on statuses, unsupported messages and calls.
type Error struct {
	Code      Number `json:"code"`
	Title     string `json:"title"`
	Message   string `json:"message"`
	Href      string `json:"href"`
	ErrorData struct {
		Details string `json:"details"`
	} `json:"error_data"`
}

// Number is a JSON number or a string holding one. Meta sends most timestamps as
// strings and some as bare integers; json.Number accepts both and keeps the text.
type Number = json.Number

// IDChange is a {previous, current} pair of the user_id_update field.
type IDChange struct {
	Previous string `json:"previous"`
	Current  string `json:"current"`
}

// UserIDUpdate is an element of value.user_id_update[] (field "user_id_update").
type UserIDUpdate struct {
	WaID         string   `json:"wa_id"`
	Detail       string   `json:"detail"`
	UserID       IDChange `json:"user_id"`
	ParentUserID IDChange `json:"parent_user_id"`
	Timestamp    Number   `json:"timestamp"`
}
