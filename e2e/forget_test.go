package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// The person to forget: first seen by phone (with an ad click), then by BSUID with a
// username, then with both, which merges the two contacts.
const (
	forgetPhone    = "573015550999"
	forgetBSUID    = "CO.99990000000000000001"
	forgetUsername = "@forget.me"
	forgetName     = "Forget Me"
	forgetWABA     = "102290129340398"
)

// personInbound is an inbound text from the person; empty values are left out.
func personInbound(id string, at int64, phone, bsuid, username, name string, referral bool) kafka.Message {
	profile := map[string]any{"name": name}
	if username != "" {
		profile["username"] = username
	}
	contact := map[string]any{"profile": profile}
	msg := map[string]any{"id": id, "timestamp": fmt.Sprint(at), "type": "text", "text": map[string]any{"body": "hola"}}
	if phone != "" {
		contact["wa_id"], msg["from"] = phone, phone
	}
	if bsuid != "" {
		contact["user_id"], msg["from_user_id"] = bsuid, bsuid
	}
	if referral {
		msg["referral"] = map[string]any{"source_id": "AD.FORGET", "source_type": "ad", "source_url": "https://fb.me/f",
			"headline": "Offer", "media_type": "image", "ctwa_clid": "clid.forget"}
	}
	body, _ := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{
		"id": forgetWABA, "changes": []any{map[string]any{"field": "messages", "value": map[string]any{
			"messaging_product": "whatsapp",
			"metadata":          map[string]any{"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
			"contacts":          []any{contact}, "messages": []any{msg}}}}}}})
	return kafka.Message{Key: []byte("106540352242922"), Value: body}
}

// forgetTables are the tables whose counts must not change.
var forgetTables = []string{"chat_report", "package_usage_report", "voice_report", "leads", "identities"}

// personalLeft counts the rows of any table, every version, that still hold the person's
// phone, username or profile name.
func (e *env) personalLeft(phone, username, name string) map[string]int64 {
	left := map[string]int64{}
	for _, table := range forgetTables {
		q := fmt.Sprintf("SELECT count() FROM $db.%s WHERE phone = '%s' OR lower(username) = lower('%s') OR profile_name = '%s'",
			table, phone, username, name)
		if n := e.count(q); n != 0 {
			left[table] = n
		}
	}
	if n := e.count(fmt.Sprintf("SELECT count() FROM $db.contact_keys WHERE key_value = '%s' OR lower(key_value) = lower('%s')", phone, username)); n != 0 {
		left["contact_keys"] = n
	}
	return left
}

func (e *env) tableCounts() map[string]int64 {
	out := map[string]int64{}
	for _, table := range forgetTables {
		out[table] = e.count("SELECT count() FROM $db." + table + " FINAL")
	}
	return out
}

// contactOn asks a worker's /v1/contacts; nil when it answers 404.
func contactOn(t *testing.T, w *worker, key, value string) map[string]any {
	t.Helper()
	resp, err := http.Get("http://" + w.http + "/v1/contacts?" + url.Values{key: {value}}.Encode())
	if err != nil {
		t.Fatalf("/v1/contacts on %s: %v", w.http, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusNotFound {
		return nil
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/v1/contacts?%s=%s on %s: %d %s", key, value, w.http, resp.StatusCode, b)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// assertForgottenOn fails unless the worker knows the person by BSUID only: no phone,
// username or profile name, and the phone and username find nobody.
func assertForgottenOn(t *testing.T, name string, w *worker) {
	t.Helper()
	c := contactOn(t, w, "bsuid", forgetBSUID)
	if c == nil {
		t.Fatalf("%s: the BSUID finds no contact: the erasure must keep the contact", name)
	}
	if c["phone"] != "" || c["username"] != "" || c["profile_name"] != "" {
		t.Errorf("%s: /v1/contacts still shows phone %v, username %v, profile name %v", name, c["phone"], c["username"], c["profile_name"])
	}
	for _, k := range c["keys"].([]any) {
		if k := k.(map[string]any); k["key_type"] == "phone" || k["key_type"] == "username" {
			t.Errorf("%s: /v1/contacts still lists key %v %v", name, k["key_type"], k["key_value"])
		}
	}
	for key, value := range map[string]string{"phone": forgetPhone, "username": forgetUsername} {
		if c := contactOn(t, w, key, value); c != nil {
			t.Errorf("%s: /v1/contacts?%s=%s still finds %v", name, key, value, c["contact_id"])
		}
	}
}

// wapipe forget --phone erases the person's phone, username and profile name from
// ClickHouse (every table, every version), from both workers' state and /v1/contacts, and
// from the identity topic, as a worker bootstrapped from it afterwards shows; counts stay,
// and the person's next message starts a fresh history from what it carries.
func TestForgetErasesPersonEverywhere(t *testing.T) {
	e := newEnv(t, 3) // a partition for each of the three workers: one without any is never ready
	msgs, exp := generate(300, 21, 0)
	now := time.Now().Unix()
	msgs = append(msgs,
		personInbound("wamid.forget.1", now-3600, forgetPhone, "", "", forgetName, true),
		personInbound("wamid.forget.2", now-3500, "", forgetBSUID, forgetUsername, forgetName, false),
		personInbound("wamid.forget.3", now-3400, forgetPhone, forgetBSUID, forgetUsername, forgetName, false))
	e.produce(msgs)
	a, b := e.startWorker(t.TempDir()), e.startWorker(t.TempDir())
	exp.ChatRows += 3
	waitFor(t, 90*time.Second, "the generated traffic and the person's three messages", func() bool {
		return e.count("SELECT count() FROM $db.chat_report FINAL") == int64(exp.ChatRows) &&
			e.count("SELECT count() FROM $db.identities FINAL WHERE merged_into != '' AND bsuid = '"+forgetBSUID+"'") == 1
	})
	waitFor(t, 30*time.Second, "both workers to know the merged person", func() bool {
		for _, w := range []*worker{a, b} {
			if c := contactOn(t, w, "bsuid", forgetBSUID); c == nil || c["phone"] != forgetPhone || len(c["merged_from"].([]any)) != 1 {
				return false
			}
		}
		return true
	})
	if t.Failed() {
		t.FailNow()
	}
	if left := e.personalLeft(forgetPhone, forgetUsername, forgetName); len(left) == 0 {
		t.Fatal("setup: the person's data is not in ClickHouse")
	}
	before := e.tableCounts()

	out, err := exec.Command(binary, "forget", "--phone", "+57 301 555 0999", "--brokers", e.brokers,
		"--clickhouse", e.chAddr, "--database", e.database, "--settle", "2s", "--json").Output()
	if err != nil {
		t.Fatalf("wapipe forget: %v %s", err, stderrOf(err))
	}
	var done struct {
		Contact    string            `json:"contact_id"`
		MergedFrom []string          `json:"merged_from"`
		Records    int               `json:"erasure_records"`
		Tables     map[string]uint64 `json:"tables"`
	}
	if err := json.Unmarshal(out, &done); err != nil {
		t.Fatalf("forget printed %s: %v", out, err)
	}
	if len(done.MergedFrom) != 1 || done.Records != 2 || done.Tables["chat_report"] != 3 || done.Tables["leads"] != 1 ||
		done.Tables["identities"] != 2 || done.Tables["contact_keys"] != 2 {
		t.Errorf("forget reported %s; want both contacts (2 records), 3 chat rows, 1 lead, 2 identities, 2 keys", out)
	}

	if left := e.personalLeft(forgetPhone, forgetUsername, forgetName); len(left) != 0 {
		t.Errorf("ClickHouse rows still holding the person's data after forget: %v", left)
	}
	if after := e.tableCounts(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("counts (FINAL) after forget %v, before %v: they must stay", after, before)
	}
	waitFor(t, 30*time.Second, "both workers to apply the erasure", func() bool {
		for _, w := range []*worker{a, b} {
			if c := contactOn(t, w, "bsuid", forgetBSUID); c == nil || c["phone"] != "" {
				return false
			}
		}
		return true
	})
	assertForgottenOn(t, "worker A", a)
	assertForgottenOn(t, "worker B", b)

	// A fresh worker learns every contact from the identity topic alone.
	c := e.startWorker(t.TempDir())
	waitFor(t, 60*time.Second, "a fresh worker to be ready after the forget", func() bool { return c.ready() == http.StatusOK })
	if t.Failed() {
		t.Fatalf("the fresh worker's /readyz: %s", readyBody(c))
	}
	assertForgottenOn(t, "a fresh worker", c)

	// The person writes again, from a new number: a fresh history of what this message carries.
	const newPhone = "573015551000"
	at := time.Now().Unix() + 120
	e.produce([]kafka.Message{personInbound("wamid.forget.4", at, newPhone, forgetBSUID, "@new.me", "New Me", false)})
	waitFor(t, 60*time.Second, "the new message's row", func() bool {
		return e.count("SELECT count() FROM $db.chat_report FINAL WHERE message_id = 'wamid.forget.4' AND phone = '"+newPhone+"'") == 1
	})
	waitFor(t, 30*time.Second, "every worker to know the new number only", func() bool {
		for _, w := range []*worker{a, b, c} {
			if got := contactOn(t, w, "bsuid", forgetBSUID); got == nil || got["phone"] != newPhone || got["username"] != "@new.me" {
				return false
			}
		}
		return true
	})
	// The fresh worker wrote rows of the older snapshots it replayed before it met the
	// erasure, and erased them again after (a mutation ClickHouse runs in the background).
	waitFor(t, 30*time.Second, "ClickHouse to hold none of the forgotten data after the fresh worker and new traffic", func() bool {
		return len(e.personalLeft(forgetPhone, forgetUsername, forgetName)) == 0
	})
	if left := e.personalLeft(forgetPhone, forgetUsername, forgetName); len(left) != 0 {
		t.Errorf("rows holding the forgotten data again: %v", left)
	}
	var first time.Time
	err = e.conn.QueryRow(context.Background(), "SELECT first_seen FROM "+e.database+
		".contact_keys FINAL WHERE key_type = 'phone' AND key_value = ?", newPhone).Scan(&first)
	if err != nil || first.Unix() != at {
		t.Errorf("the new number's key: first seen %v (%v), want %d: history starts with the new message", first, err, at)
	}
	for _, w := range []*worker{a, b, c} {
		if got := contactOn(t, w, "phone", forgetPhone); got != nil {
			t.Errorf("worker %s finds the forgotten phone again: %v", w.http, got["contact_id"])
		}
	}

	// The forgotten phone names nobody now (exit 1); by its BSUID the person can be forgotten
	// again, which empties what the new message brought.
	forget := func(args ...string) ([]byte, error) {
		return exec.Command(binary, append([]string{"forget", "--brokers", e.brokers, "--clickhouse", e.chAddr,
			"--database", e.database, "--settle", "0s"}, args...)...).Output()
	}
	if _, err := forget("--phone", forgetPhone); exitCode(err) != 1 {
		t.Errorf("forget of the forgotten phone: %v, want exit status 1", err)
	}
	if out, err := forget("--bsuid", forgetBSUID); err != nil || !strings.Contains(string(out), "chat_report") {
		t.Errorf("forget --bsuid: %v %s\n%s", err, stderrOf(err), out)
	}
	if left := e.personalLeft(newPhone, "@new.me", "New Me"); len(left) != 0 {
		t.Errorf("after a second forget, rows still hold the new number: %v", left)
	}
	// The new message is dated after this machine's clock: the cut is the contact's last sighting.
	waitFor(t, 30*time.Second, "every worker to forget the new number too", func() bool {
		for _, w := range []*worker{a, b, c} {
			if got := contactOn(t, w, "bsuid", forgetBSUID); got == nil || got["phone"] != "" || got["username"] != "" {
				return false
			}
		}
		return true
	})
}

func exitCode(err error) int {
	if x, ok := err.(*exec.ExitError); ok {
		return x.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func readyBody(w *worker) string {
	resp, err := http.Get("http://" + w.http + "/readyz")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// stderrOf is the stderr an exec.ExitError carries.
func stderrOf(err error) string {
	if x, ok := err.(*exec.ExitError); ok {
		return strings.TrimSpace(string(x.Stderr))
	}
	return ""
}

// A phone known in two tenants is two people to wapipe: forget refuses without --tenant
// (exit 2) and, given one, erases that tenant's person only.
func TestForgetIsScopedToATenant(t *testing.T) {
	e := newEnv(t, 1)
	const phone, other = "573015550888", "209876543210987"
	now := time.Now().Unix()
	e.produce([]kafka.Message{
		keyedInboundTo(forgetWABA, "wamid.tenant.1", now-100, phone, "", ""),
		keyedInboundTo(other, "wamid.tenant.2", now-50, phone, "", ""),
	})
	e.startWorker(t.TempDir())
	waitFor(t, 60*time.Second, "the phone's contact in both tenants", func() bool {
		return e.count("SELECT count() FROM $db.identities FINAL WHERE phone = '"+phone+"'") == 2
	})
	forget := func(args ...string) ([]byte, error) {
		return exec.Command(binary, append([]string{"forget", "--brokers", e.brokers, "--clickhouse", e.chAddr,
			"--database", e.database, "--settle", "0s", "--phone", phone}, args...)...).Output()
	}
	if _, err := forget(); exitCode(err) != 2 || !strings.Contains(stderrOf(err), "--tenant") {
		t.Fatalf("forget without --tenant: %v %q, want exit status 2 asking for --tenant", err, stderrOf(err))
	}
	if out, err := forget("--tenant", forgetWABA); err != nil {
		t.Fatalf("forget --tenant %s: %v %s\n%s", forgetWABA, err, stderrOf(err), out)
	}
	for tenant, want := range map[string]int64{forgetWABA: 0, other: 1} {
		q := "SELECT count() FROM $db.chat_report WHERE tenant_id = '" + tenant + "' AND phone = '" + phone + "'"
		if n := e.count(q); n != want {
			t.Errorf("tenant %s: %d chat rows with the phone after forgetting it in %s, want %d", tenant, n, forgetWABA, want)
		}
	}
}
