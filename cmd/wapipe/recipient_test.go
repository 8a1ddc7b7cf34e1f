package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/wapipe/wapipe/identity"
)

// The purpose rules of contract section 9, one row per purpose and what the contact has.
func TestRecipientForPurpose(t *testing.T) {
	both := contactJSON{TenantID: "t", ContactID: "c_1", BSUID: "CO.1", Phone: "573001112233", PhoneSource: "webhook"}
	bsuidOnly := contactJSON{TenantID: "t", ContactID: "c_2", BSUID: "CO.2", Username: "@ana"}
	phoneOnly := contactJSON{TenantID: "t", ContactID: "c_3", Phone: "573004445566", PhoneSource: "contact_request"}
	for _, c := range []struct {
		name    string
		contact contactJSON
		purpose string
		target  string // "" when the answer is an error
		send    sendJSON
		err     string
	}{
		{"message, both", both, purposeMessage, "bsuid", sendJSON{"individual", "", "CO.1"}, ""},
		{"message, bsuid only", bsuidOnly, purposeMessage, "bsuid", sendJSON{"individual", "", "CO.2"}, ""},
		{"message, phone only", phoneOnly, purposeMessage, "phone", sendJSON{"individual", "573004445566", ""}, ""},
		{"marketing, both", both, purposeMarketing, "phone", sendJSON{"individual", "573001112233", ""}, ""},
		{"marketing, bsuid only", bsuidOnly, purposeMarketing, "bsuid", sendJSON{"individual", "", "CO.2"}, ""},
		{"marketing, phone only", phoneOnly, purposeMarketing, "phone", sendJSON{"individual", "573004445566", ""}, ""},
		{"authentication, both", both, purposeAuthentication, "phone", sendJSON{"individual", "573001112233", ""}, ""},
		{"authentication, bsuid only", bsuidOnly, purposeAuthentication, "", sendJSON{}, "phone_required"},
		{"authentication, phone only", phoneOnly, purposeAuthentication, "phone", sendJSON{"individual", "573004445566", ""}, ""},
		{"crm_notification, both", both, purposeCRMNotification, "phone", sendJSON{"individual", "573001112233", ""}, ""},
		{"crm_notification, bsuid only", bsuidOnly, purposeCRMNotification, "", sendJSON{}, "phone_required"},
		{"crm_notification, phone only", phoneOnly, purposeCRMNotification, "phone", sendJSON{"individual", "573004445566", ""}, ""},
		{"message, no address", contactJSON{ContactID: "c_4"}, purposeMessage, "", sendJSON{}, "no_address"},
	} {
		r, ok := recipientFor(c.contact, c.purpose)
		if ok != (c.err == "") || r.Error != c.err || r.Target != c.target {
			t.Errorf("%s: ok %v, error %q, target %q; want error %q, target %q", c.name, ok, r.Error, r.Target, c.err, c.target)
			continue
		}
		if r.ContactID != c.contact.ContactID || r.Purpose != c.purpose {
			t.Errorf("%s: contact %s, purpose %s", c.name, r.ContactID, r.Purpose)
		}
		if c.err != "" {
			if r.Send != nil || r.Reason == "" {
				t.Errorf("%s: send %+v, reason %q", c.name, r.Send, r.Reason)
			}
			if c.err == "phone_required" && (!strings.Contains(r.Reason, "131062") || !strings.Contains(r.Reason, "no phone number is known")) {
				t.Errorf("%s: reason %q names neither error 131062 nor the missing phone", c.name, r.Reason)
			}
			continue
		}
		if r.Send == nil || *r.Send != c.send {
			t.Errorf("%s: send %+v, want %+v", c.name, r.Send, c.send)
		}
	}
}

// The answer's JSON: send never holds both to and recipient, unknown values are null, and a
// username is never a target.
func TestRecipientJSON(t *testing.T) {
	r, _ := recipientFor(contactJSON{TenantID: "t", ContactID: "c_2", BSUID: "CO.2", Username: "@ana"}, purposeMessage)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"tenant_id":"t","contact_id":"c_2","bsuid":"CO.2","username":"@ana","phone":null,"phone_source":"",` +
		`"purpose":"message","target":"bsuid","send":{"recipient_type":"individual","recipient":"CO.2"}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	for _, p := range purposes {
		r, ok := recipientFor(contactJSON{ContactID: "c", BSUID: "CO.2", Phone: "57300", Username: "@ana"}, p)
		if !ok || r.Send == nil || (r.Send.To != "") == (r.Send.Recipient != "") || r.Send.To == "@ana" || r.Send.Recipient == "@ana" {
			t.Errorf("%s: send %+v", p, r.Send)
		}
	}
}

func TestRecipientAnswerStatus(t *testing.T) {
	one := []contactJSON{{TenantID: "a", ContactID: "c_1", BSUID: "CO.1"}}
	two := []contactJSON{{TenantID: "b", ContactID: "c_1", BSUID: "CO.1"}, {TenantID: "a", ContactID: "c_9", BSUID: "CO.1"}}
	for _, c := range []struct {
		name, tenant, purpose string
		contacts              []contactJSON
		status, exit          int
	}{
		{"found", "", purposeMessage, one, 200, 0},
		{"unknown key", "", purposeMessage, nil, 404, 1},
		{"several tenants", "", purposeMessage, two, 409, 2},
		{"several tenants, one asked for", "b", purposeMessage, two[:1], 200, 0},
		{"no phone", "a", purposeAuthentication, one, 422, 3},
		{"unknown purpose", "a", "sms", one, 400, 2},
	} {
		status, r := recipientAnswer(c.contacts, c.tenant, "bsuid", "CO.1", c.purpose)
		if status != c.status || recipientExit(status) != c.exit {
			t.Errorf("%s: status %d (exit %d), want %d (exit %d): %+v", c.name, status, recipientExit(status), c.status, c.exit, r)
		}
		if status == 409 && strings.Join(r.Tenants, ",") != "a,b" {
			t.Errorf("%s: tenants %v", c.name, r.Tenants)
		}
	}
}

// GET /v1/recipient on a worker's store: every key kind resolves to today's contact, through
// a BSUID change and a merge, and a contact without a phone gets 422 for the purposes that
// need one.
func TestRecipientFromTheWorker(t *testing.T) {
	db, err := badger.Open(identity.BadgerOptions(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids := identity.New(db)
	for _, f := range []identity.Facts{
		{Tenant: "acme", At: 100, Phone: "573001110000"},                                // the survivor, first seen by phone
		{Tenant: "acme", At: 200, BSUID: "CO.1001", Username: "@vale"},                  // another contact, until...
		{Tenant: "acme", At: 300, BSUID: "CO.1001", Phone: "573001110000"},              // ...one message carries both: a merge
		{Tenant: "acme", At: 400, BSUID: "CO.1002", PreviousBSUID: "CO.1001"},           // a BSUID change
		{Tenant: "acme", At: 500, BSUID: "MX.2001", Username: "@mateo"},                 // never shares a phone
		{Tenant: "beta", At: 600, BSUID: "MX.2001"},                                     // the same BSUID in another tenant
		{Tenant: "acme", At: 700, Phone: "573002220000", PreviousPhone: "573001110000"}, // a change of number
	} {
		if _, err := ids.Resolve(f); err != nil {
			t.Fatal(err)
		}
	}
	survivor, _, _ := ids.ContactOf("acme", "phone", "573002220000")
	loser := identity.ContactID("acme", "bsuid", "CO.1001")
	if survivor == loser || survivor == "" {
		t.Fatalf("no merge: survivor %q, loser %q", survivor, loser)
	}
	srv := httptest.NewServer(recipientHandler(lookupIn(ids)))
	defer srv.Close()
	get := func(q url.Values) (int, recipientJSON) {
		resp, err := http.Get(srv.URL + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r recipientJSON
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, r
	}
	for _, c := range []struct {
		name, key, value, tenant, purpose string
		status                            int
		contact, target, to, recipient    string
	}{
		{"old BSUID, message", "bsuid", "CO.1001", "acme", "", 200, survivor, "bsuid", "", "CO.1002"},
		{"current BSUID, marketing", "bsuid", "CO.1002", "acme", "marketing", 200, survivor, "phone", "573002220000", ""},
		{"old phone, authentication", "phone", "+57 300 111 0000", "acme", "authentication", 200, survivor, "phone", "573002220000", ""},
		{"username, crm_notification", "username", "@VALE", "acme", "crm_notification", 200, survivor, "phone", "573002220000", ""},
		{"merged-away contact id, message", "contact_id", loser, "", "message", 200, survivor, "bsuid", "", "CO.1002"},
		{"survivor's contact id, marketing", "contact_id", survivor, "acme", "marketing", 200, survivor, "phone", "573002220000", ""},
		{"no phone, message", "username", "@mateo", "acme", "message", 200, "", "bsuid", "", "MX.2001"},
		{"no phone, marketing", "bsuid", "MX.2001", "acme", "marketing", 200, "", "bsuid", "", "MX.2001"},
		{"no phone, authentication", "bsuid", "MX.2001", "acme", "authentication", 422, "", "", "", ""},
		{"no phone, crm_notification", "bsuid", "MX.2001", "beta", "crm_notification", 422, "", "", "", ""},
		{"several tenants", "bsuid", "MX.2001", "", "message", 409, "", "", "", ""},
		{"unknown", "phone", "573009999999", "", "message", 404, "", "", "", ""},
		{"unknown purpose", "phone", "573002220000", "acme", "sms", 400, "", "", "", ""},
	} {
		q := url.Values{c.key: {c.value}}
		if c.tenant != "" {
			q.Set("tenant", c.tenant)
		}
		if c.purpose != "" {
			q.Set("purpose", c.purpose)
		}
		status, r := get(q)
		if status != c.status {
			t.Errorf("%s: status %d, want %d: %+v", c.name, status, c.status, r)
			continue
		}
		if c.contact != "" && (r.RecipientContact == nil || r.ContactID != c.contact) {
			t.Errorf("%s: contact %+v, want %s", c.name, r.RecipientContact, c.contact)
		}
		if status == 200 && (r.Target != c.target || r.Send == nil || r.Send.To != c.to || r.Send.Recipient != c.recipient) {
			t.Errorf("%s: target %s, send %+v; want %s to %q recipient %q", c.name, r.Target, r.Send, c.target, c.to, c.recipient)
		}
		if status == 422 && (r.Error != "phone_required" || !strings.Contains(r.Reason, "131062") || r.Phone != nil) {
			t.Errorf("%s: %+v", c.name, r)
		}
		if status == 409 && strings.Join(r.Tenants, ",") != "acme,beta" {
			t.Errorf("%s: tenants %v", c.name, r.Tenants)
		}
	}
	if status, r := get(url.Values{"bsuid": {"CO.1002"}, "phone": {"573002220000"}}); status != 400 {
		t.Errorf("two keys: %d %+v", status, r)
	}
}
