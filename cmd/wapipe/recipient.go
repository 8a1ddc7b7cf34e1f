package main

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/wapipe/wapipe/model"
)

// Recipient resolution (contract section 9): whom to address in Meta's send request, for a
// contact and the purpose of the message. recipientFor is the rule; GET /v1/recipient and
// `wapipe lookup --recipient` both answer with recipientAnswer, so they answer alike.

const (
	purposeMessage         = "message"
	purposeMarketing       = "marketing"
	purposeAuthentication  = "authentication"
	purposeCRMNotification = "crm_notification"
)

var purposes = []string{purposeMessage, purposeMarketing, purposeAuthentication, purposeCRMNotification}

// recipientKeys are the keys a recipient may be asked by. A username is one of them, but
// never an answer: Meta cannot send to a username.
var recipientKeys = []string{"bsuid", "username", "phone", "contact_id"}

// sendJSON is what goes into Meta's POST /<PHONE_NUMBER_ID>/messages: either "to" (a phone)
// or "recipient" (a BSUID), never both (Meta lets "to" win).
type sendJSON struct {
	RecipientType string `json:"recipient_type"`
	To            string `json:"to,omitempty"`
	Recipient     string `json:"recipient,omitempty"`
}

// recipientJSON is the answer: today's contact (absent when none is known, null for what
// the contact lacks), and either target and send, or error and reason. Tenants is set
// only for a key known in several tenants.
type recipientJSON struct {
	*RecipientContact
	Purpose string    `json:"purpose"`
	Target  string    `json:"target,omitempty"`
	Send    *sendJSON `json:"send,omitempty"`
	Error   string    `json:"error,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	Tenants []string  `json:"tenants,omitempty"`
}

// RecipientContact is the contact in a recipient answer; null stands for unknown, as NULL
// does in identities. (Exported only so that encoding/json can fill it in.)
type RecipientContact struct {
	TenantID    string  `json:"tenant_id"`
	ContactID   string  `json:"contact_id"`
	BSUID       *string `json:"bsuid"`
	Username    *string `json:"username"`
	Phone       *string `json:"phone"`
	PhoneSource string  `json:"phone_source"`
}

// recipientFor applies the purpose's rule to today's contact. ok is false when the
// contact cannot be addressed for that purpose; the answer then carries error and reason.
func recipientFor(c contactJSON, purpose string) (r recipientJSON, ok bool) {
	strOrNull := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	r = recipientJSON{RecipientContact: &RecipientContact{TenantID: c.TenantID, ContactID: c.ContactID,
		BSUID: strOrNull(c.BSUID), Username: strOrNull(c.Username), Phone: strOrNull(c.Phone), PhoneSource: c.PhoneSource},
		Purpose: purpose}
	toPhone := func() (recipientJSON, bool) {
		r.Target, r.Send = "phone", &sendJSON{RecipientType: "individual", To: c.Phone}
		return r, true
	}
	toBSUID := func() (recipientJSON, bool) {
		r.Target, r.Send = "bsuid", &sendJSON{RecipientType: "individual", Recipient: c.BSUID}
		return r, true
	}
	switch purpose {
	case purposeMessage:
		if c.BSUID != "" {
			return toBSUID()
		}
		if c.Phone != "" {
			return toPhone()
		}
	case purposeMarketing:
		// Meta advises phones for marketing, so that later webhooks keep carrying the phone.
		if c.Phone != "" {
			return toPhone()
		}
		if c.BSUID != "" {
			return toBSUID()
		}
	case purposeAuthentication, purposeCRMNotification:
		if c.Phone != "" {
			return toPhone()
		}
		what := "an authentication message (one-tap, zero-tap or copy-code template)"
		if purpose == purposeCRMNotification {
			what = "a CRM notification"
		}
		r.Error = "phone_required"
		r.Reason = fmt.Sprintf("%s needs a phone number: Meta rejects BSUID recipients for it (error 131062), "+
			"and no phone number is known for contact %s", what, c.ContactID)
		return r, false
	default:
		r.Error, r.Reason = "bad_purpose", fmt.Sprintf("unknown purpose %q", purpose)
		return r, false
	}
	r.Error = "no_address"
	r.Reason = fmt.Sprintf("neither a BSUID nor a phone number is known for contact %s", c.ContactID)
	return r, false
}

// recipientAnswer is the whole answer for a key: contacts are those the key resolved to,
// today's contact in each tenant that knows it, best first. It returns the HTTP status
// (200, 404, 409, 422) and the body.
func recipientAnswer(contacts []contactJSON, tenant, keyType, value, purpose string) (int, recipientJSON) {
	if !slices.Contains(purposes, purpose) {
		return http.StatusBadRequest, recipientJSON{Purpose: purpose, Error: "bad_purpose",
			Reason: fmt.Sprintf("unknown purpose %q: give one of %s", purpose, strings.Join(purposes, ", "))}
	}
	if len(contacts) == 0 {
		return http.StatusNotFound, recipientJSON{Purpose: purpose, Error: "not_found",
			Reason: fmt.Sprintf("no contact with %s %s", keyType, value)}
	}
	if tenant == "" && len(contacts) > 1 {
		var ts []string
		for _, c := range contacts {
			ts = append(ts, c.TenantID)
		}
		slices.Sort(ts)
		ts = slices.Compact(ts)
		return http.StatusConflict, recipientJSON{Purpose: purpose, Error: "ambiguous_tenant", Tenants: ts,
			Reason: fmt.Sprintf("%s %s is known in tenants %s: give the tenant", keyType, value, strings.Join(ts, ", "))}
	}
	r, ok := recipientFor(contacts[0], purpose)
	if !ok {
		return http.StatusUnprocessableEntity, r
	}
	return http.StatusOK, r
}

// recipientKey is the one key of a recipient request (get reads the query or the flags by
// key type), a phone reduced to its digits.
func recipientKey(get func(keyType string) string) (keyType, value string, err error) {
	for _, kt := range recipientKeys {
		if v := strings.TrimSpace(get(kt)); v != "" {
			if keyType != "" {
				return "", "", errOneKey
			}
			keyType, value = kt, v
		}
	}
	if keyType == "" {
		return "", "", errOneKey
	}
	if keyType == "phone" {
		digits, ok := model.PhoneDigits(value)
		if !ok {
			return "", "", fmt.Errorf("phone %q is not a phone number", value)
		}
		value = digits
	}
	return keyType, value, nil
}

var errOneKey = errors.New("give one of bsuid, username, phone, contact_id")

// recipientExit is the exit status of `wapipe lookup --recipient` for an answer's HTTP status.
func recipientExit(status int) int {
	switch status {
	case http.StatusOK:
		return 0
	case http.StatusNotFound:
		return 1
	case http.StatusUnprocessableEntity:
		return 3
	default: // 409 (give --tenant), 400, and a lookup that could not be made
		return 2
	}
}
