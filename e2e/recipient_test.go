package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// wapipe lookup --recipient answers whom to send to, alike from ClickHouse and from a running
// worker (GET /v1/recipient): any key, old BSUID, old phone and merged-away contact id
// included, gives today's contact; the purpose decides between BSUID and phone; a contact
// without a phone cannot get an authentication or CRM message (exit 3 with the reason).
func TestRecipientResolvesAnyKeyToTodaysContact(t *testing.T) {
	e := newEnv(t, storyPartitions)
	const mergePhone, mergeBSUID, otherWABA = "573015550888", "CO.88880000000000000001", "109999999999999"
	msgs := append(storyMessages(t),
		keyedInbound("wamid.recipient.1", 1781000000, mergePhone, "", ""),
		keyedInbound("wamid.recipient.2", 1781000100, "", mergeBSUID, ""),
		keyedInbound("wamid.recipient.3", 1781000200, mergePhone, mergeBSUID, ""),
		keyedInboundTo(otherWABA, "wamid.recipient.4", 1781000300, "", mBSUID, ""), // Mateo's BSUID in another tenant
	)
	e.produce(msgs)
	w := e.startWorker(t.TempDir())
	waitFor(t, 90*time.Second, "every webhook committed", func() bool {
		return e.committed("wapipe", storyPartitions) == int64(len(msgs))
	})
	if t.Failed() {
		t.FailNow()
	}
	survivor, loser := storyContactID("phone", mergePhone), storyContactID("bsuid", mergeBSUID)

	// run runs wapipe lookup and returns its stdout, stderr and exit status.
	run := func(args ...string) (string, string, int) {
		cmd := exec.Command(binary, append([]string{"lookup"}, args...)...)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var exit *exec.ExitError
		switch {
		case err == nil:
			return out.String(), errOut.String(), 0
		case errors.As(err, &exit):
			return out.String(), errOut.String(), exit.ExitCode()
		}
		t.Fatal(err)
		return "", "", -1
	}
	fromCH := []string{"--clickhouse", e.chAddr, "--database", e.database}
	fromWorker := []string{"--worker", w.http}
	type answer struct {
		TenantID    string            `json:"tenant_id"`
		ContactID   string            `json:"contact_id"`
		BSUID       *string           `json:"bsuid"`
		Phone       *string           `json:"phone"`
		PhoneSource string            `json:"phone_source"`
		Target      string            `json:"target"`
		Send        map[string]string `json:"send"`
		Error       string            `json:"error"`
		Reason      string            `json:"reason"`
		Tenants     []string          `json:"tenants"`
	}
	for _, c := range []struct {
		name      string
		args      []string
		exit      int
		contact   string
		target    string
		sendKey   string // "to" or "recipient"
		sendValue string
	}{
		{"old BSUID, message (default)", []string{"--tenant", storyTenant, "--bsuid", vBSUID1}, 0, valentina, "bsuid", "recipient", vBSUID2},
		{"old phone, message", []string{"--tenant", storyTenant, "--phone", "+" + vPhone1, "--purpose", "message"}, 0, valentina, "bsuid", "recipient", vBSUID2},
		{"old BSUID, marketing", []string{"--bsuid", vBSUID1, "--purpose", "marketing"}, 0, valentina, "phone", "to", vPhone2},
		{"username, authentication", []string{"--username", strings.ToUpper(vUsername), "--purpose", "authentication"}, 0, valentina, "phone", "to", vPhone2},
		{"contact id, crm_notification", []string{"--contact-id", valentina, "--purpose", "crm_notification"}, 0, valentina, "phone", "to", vPhone2},
		{"merged-away contact id, message", []string{"--contact-id", loser}, 0, survivor, "bsuid", "recipient", mergeBSUID},
		{"merged-away BSUID, marketing", []string{"--bsuid", mergeBSUID, "--purpose", "marketing"}, 0, survivor, "phone", "to", mergePhone},
		{"no phone, message", []string{"--tenant", storyTenant, "--username", mUsername}, 0, mateo, "bsuid", "recipient", mBSUID},
		{"no phone, marketing", []string{"--tenant", storyTenant, "--bsuid", mBSUID, "--purpose", "marketing"}, 0, mateo, "bsuid", "recipient", mBSUID},
		{"no phone, authentication", []string{"--tenant", storyTenant, "--bsuid", mBSUID, "--purpose", "authentication"}, 3, mateo, "", "", ""},
		{"no phone, crm_notification", []string{"--tenant", storyTenant, "--contact-id", mateo, "--purpose", "crm_notification"}, 3, mateo, "", "", ""},
		{"a BSUID in two tenants", []string{"--bsuid", mBSUID}, 2, "", "", "", ""},
		{"unknown phone", []string{"--phone", "573009999999"}, 1, "", "", "", ""},
		{"unknown contact id", []string{"--contact-id", "c_0000000000000000"}, 1, "", "", "", ""},
	} {
		var answers []string
		for _, src := range [][]string{fromCH, fromWorker} {
			name := c.name + map[bool]string{true: " (ClickHouse)", false: " (worker)"}[src[0] == "--clickhouse"]
			out, stderr, exit := run(append(append([]string{"--recipient"}, src...), c.args...)...)
			answers = append(answers, out)
			if exit != c.exit {
				t.Errorf("%s: exit %d, want %d\n%s%s", name, exit, c.exit, out, stderr)
				continue
			}
			var a answer
			if err := json.Unmarshal([]byte(out), &a); err != nil {
				t.Errorf("%s: stdout is not JSON: %v\n%s", name, err, out)
				continue
			}
			if a.ContactID != c.contact {
				t.Errorf("%s: contact %q, want %q", name, a.ContactID, c.contact)
			}
			switch c.exit {
			case 0:
				if a.Target != c.target || a.Send[c.sendKey] != c.sendValue || len(a.Send) != 2 || a.Send["recipient_type"] != "individual" {
					t.Errorf("%s: target %s, send %v; want %s with %s %s", name, a.Target, a.Send, c.target, c.sendKey, c.sendValue)
				}
			case 3:
				if a.Error != "phone_required" || a.Phone != nil || a.Send != nil || !strings.Contains(a.Reason, "131062") ||
					!strings.Contains(stderr, "no phone number is known") {
					t.Errorf("%s: %s%s", name, out, stderr)
				}
			case 2:
				if strings.Join(a.Tenants, ",") != storyTenant+","+otherWABA || !strings.Contains(stderr, otherWABA) {
					t.Errorf("%s: %s%s", name, out, stderr)
				}
			case 1:
				if a.Error != "not_found" {
					t.Errorf("%s: %s", name, out)
				}
			}
		}
		if len(answers) == 2 && answers[0] != answers[1] {
			t.Errorf("%s: ClickHouse and the worker differ:\n%s%s", c.name, answers[0], answers[1])
		}
	}

	// --contact-id prints the contact like the other keys, a merged-away id its survivor.
	for _, src := range [][]string{fromCH, fromWorker} {
		out, stderr, exit := run(append(append([]string{"--json"}, src...), "--contact-id", loser)...)
		var got map[string]any
		if exit != 0 || json.Unmarshal([]byte(out), &got) != nil || got["contact_id"] != survivor {
			t.Errorf("%v --contact-id %s: exit %d, %s%s", src[0], loser, exit, out, stderr)
		}
		if merged, _ := got["merged_from"].([]any); len(merged) != 1 || merged[0] != loser {
			t.Errorf("%v --contact-id %s: merged_from %v", src[0], loser, got["merged_from"])
		}
	}
	// Stray arguments, a bad purpose and two keys are errors with exit 2.
	for name, args := range map[string][]string{
		"stray argument":        append(fromCH, "--bsuid", vBSUID2, "extra"),
		"argument before flags": append([]string{"extra"}, fromCH...),
		"unknown purpose":       append(fromCH, "--recipient", "--bsuid", vBSUID2, "--purpose", "sms"),
		"two keys":              append(fromCH, "--recipient", "--bsuid", vBSUID2, "--contact-id", valentina),
	} {
		_, stderr, exit := run(args...)
		if exit != 2 {
			t.Errorf("%s: exit %d, want 2: %s", name, exit, stderr)
		}
		if strings.Contains(name, "argument") && (!strings.Contains(stderr, "usage: wapipe lookup") || !strings.Contains(stderr, "extra")) {
			t.Errorf("%s: stderr without usage or the argument:\n%s", name, stderr)
		}
	}
	w.stop(t)
}
