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
	w.stop(t)
}
