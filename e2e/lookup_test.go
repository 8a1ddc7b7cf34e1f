package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// wapipe lookup finds a contact by username (any case), BSUID or phone, from ClickHouse and
// from a running worker, and exits 1 when there is none.
func TestLookupFindsContactByAnyKey(t *testing.T) {
	e := newEnv(t, 2)
	msgs, exp := generate(600, 5, 0)
	e.produce(msgs)
	w := e.startWorker(t.TempDir())
	e.expectReports(exp, 60*time.Second)

	var username, bsuid, contact string
	err := e.conn.QueryRow(context.Background(), "SELECT username, bsuid, current_contact_id FROM "+e.database+
		".chat_report_current WHERE username != '' AND bsuid != '' ORDER BY message_id LIMIT 1").Scan(&username, &bsuid, &contact)
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(args ...string) (map[string]any, error) {
		out, err := exec.Command(binary, append([]string{"lookup", "--json"}, args...)...).Output()
		if err != nil {
			return nil, err
		}
		var c map[string]any
		return c, json.Unmarshal(out, &c)
	}
	fromCH := []string{"--clickhouse", e.chAddr, "--database", e.database}
	for name, args := range map[string][]string{
		"username in upper case": append(fromCH, "--username", strings.ToUpper(username)),
		"bsuid":                  append(fromCH, "--bsuid", bsuid),
		"bsuid from the worker":  {"--worker", "http://" + w.http, "--bsuid", bsuid},
		"bsuid from the worker's --listen address": {"--worker", w.http, "--bsuid", bsuid},
	} {
		c, err := lookup(args...)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if c["contact_id"] != contact {
			t.Errorf("%s: contact %v, want %s", name, c["contact_id"], contact)
		}
		if c["bsuid"] != bsuid || !strings.EqualFold(fmt.Sprint(c["username"]), username) {
			t.Errorf("%s: bsuid %v, username %v; want %s, %s", name, c["bsuid"], c["username"], bsuid, username)
		}
		if _, err := time.Parse(time.RFC3339, fmt.Sprint(c["first_seen"])); err != nil {
			t.Errorf("%s: first_seen %v is not an RFC 3339 time", name, c["first_seen"])
		}
		if keys, _ := c["keys"].([]any); len(keys) == 0 {
			t.Errorf("%s: no keys in %v", name, c)
		} else if k, _ := keys[0].(map[string]any); k["key_type"] == nil || k["key_value"] == nil {
			t.Errorf("%s: a key without key_type and key_value: %v", name, keys[0])
		}
	}
	_, err = lookup(append(fromCH, "--phone", "999")...)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("an unknown phone: %v, want exit status 1", err)
	}
	// A lookup that cannot be made is not "no such contact": exit 2.
	for name, args := range map[string][]string{
		"ClickHouse away": {"--clickhouse", "127.0.0.1:1", "--phone", "999"},
		"worker away":     {"--worker", "127.0.0.1:1", "--phone", "999"},
		"two keys":        append(fromCH, "--phone", "999", "--bsuid", bsuid),
	} {
		if _, err := lookup(args...); !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("%s: %v, want exit status 2", name, err)
		}
	}

	// Both sources tell the same of a merge survivor, with the contact merged into it, and of
	// a parent BSUID's contact. A phone-only user and a BSUID-only user turn out to be one
	// when a message carries both (rule 1): the phone's older contact survives.
	const phone, merged, parent = "573015550777", "CO.77770000000000000001", "CO.ENT.7777"
	e.produce([]kafka.Message{
		keyedInbound("wamid.lookup.1", 1781000000, phone, "", ""),
		keyedInbound("wamid.lookup.2", 1781000100, "", merged, parent),
		keyedInbound("wamid.lookup.3", 1781000200, phone, merged, parent),
	})
	var survivor, loser string
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && loser == "" {
		time.Sleep(200 * time.Millisecond)
		_ = e.conn.QueryRow(context.Background(), "SELECT merged_into, contact_id FROM "+e.database+
			".identities FINAL WHERE merged_into != '' AND bsuid = ?", merged).Scan(&survivor, &loser)
	}
	if loser == "" {
		t.Fatal("no merge in identities after 60 s")
	}
	for _, key := range []string{merged, parent} {
		ch, err := lookup(append(fromCH, "--bsuid", key)...)
		if err != nil {
			t.Fatalf("bsuid %s from ClickHouse: %v", key, err)
		}
		wk, err := lookup("--worker", w.http, "--bsuid", key)
		if err != nil {
			t.Fatalf("bsuid %s from the worker: %v", key, err)
		}
		if fmt.Sprint(ch) != fmt.Sprint(wk) {
			t.Errorf("bsuid %s: ClickHouse and the worker differ:\n%v\n%v", key, ch, wk)
		}
		if ch["contact_id"] != survivor || fmt.Sprint(ch["merged_from"]) != fmt.Sprint([]any{loser}) {
			t.Errorf("bsuid %s: contact %v merged from %v; want %s merged from %s", key, ch["contact_id"], ch["merged_from"], survivor, loser)
		}
		if ch["version"] == 0.0 {
			t.Errorf("bsuid %s: version 0", key)
		}
	}
	// A phone as people write it finds the contact: phones are stored as digits.
	if c, err := lookup(append(fromCH, "--phone", "+57 301-555-0777")...); err != nil || c["contact_id"] != survivor {
		t.Errorf("--phone +57 301-555-0777: %v, %v; want %s", c["contact_id"], err, survivor)
	}
	w.stop(t)
}

// keyedInbound is a text message webhook from a user known by phone, BSUID (with a parent
// BSUID) or both; an empty value is left out, as Meta leaves it out.
func keyedInbound(id string, at int64, phone, bsuid, parent string) kafka.Message {
	return keyedInboundTo("102290129340398", id, at, phone, bsuid, parent)
}

// keyedInboundTo is keyedInbound to the business of another WABA (another tenant).
func keyedInboundTo(waba, id string, at int64, phone, bsuid, parent string) kafka.Message {
	contact := map[string]any{"profile": map[string]any{"name": "Lookup Test"}}
	msg := map[string]any{"id": id, "timestamp": fmt.Sprint(at), "type": "text", "text": map[string]any{"body": "hola"}}
	for _, f := range []struct {
		value          string
		contact, inMsg string
	}{{phone, "wa_id", "from"}, {bsuid, "user_id", "from_user_id"}, {parent, "parent_user_id", "from_parent_user_id"}} {
		if f.value != "" {
			contact[f.contact], msg[f.inMsg] = f.value, f.value
		}
	}
	body, _ := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{
		"id": waba, "changes": []any{map[string]any{"field": "messages", "value": map[string]any{
			"messaging_product": "whatsapp",
			"metadata":          map[string]any{"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
			"contacts":          []any{contact}, "messages": []any{msg}}}}}}})
	return kafka.Message{Key: []byte("106540352242922"), Value: body}
}
