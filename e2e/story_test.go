package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// The story (docs/queries.md tells it): Valentina, known only by phone before the BSUID
// rollout, then by phone and BSUID, then by username with the phone hidden; she answers a
// Click-to-WhatsApp ad, gets a marketing template (pricing on sent and delivered), calls,
// shares her phone on request, changes number (new BSUID) and writes with the new BSUID
// only. Mateo, a username user who never shares his phone, answers the same ad once on a
// second business number. Its webhooks are e2e/testdata/story/*.json, in file order.
const (
	storyTenant = "102290129340398" // the WABA id: no --tenant-map
	storyPNID   = "106540352242922"
	storyPNID2  = "106540352242977" // Mateo writes to the business's second number

	vPhone1   = "573124447781"
	vPhone2   = "573209981204"
	vBSUID1   = "CO.52918830047716203358"
	vBSUID2   = "CO.61044982315570239917"
	vUsername = "@vale.rios"
	vName     = "Valentina Ríos"

	mBSUID    = "MX.30981127745520918634"
	mUsername = "@mateo.lp"
	mName     = "Mateo L."

	storyAd         = "120229874410350118"
	storyAdURL      = "https://fb.me/8vQm2sNd1"
	storyAdHeadline = "Sandalias con envío gratis"
	vClid           = "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMv-_zfUQ2a"
	mClid           = "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMv-_zfUQ2b"

	msgLegacy   = "wamid.HBgMNTczMTI0NDQ3NzgxFQIAEhgUM0FBMDFGMkI3QzQ0RDEwMEE1RTkA"
	msgBoth     = "wamid.HBgMNTczMTI0NDQ3NzgxFQIAEhgUM0FCNzJDOTkxMEU1RjQ0MkQ4QjEA"
	msgHidden   = "wamid.HBgXQ08uNTI5MTg4MzAwNDc3MTYyMDMzNTgVAgASGBQzQUM0NEQ5QkUxMDI3N0Y2MDJBNwA="
	msgAd       = "wamid.HBgXQ08uNTI5MTg4MzAwNDc3MTYyMDMzNTgVAgASGBQzQUQ5MDE3QjRFMjJBOEMxNTYwMgA="
	msgTemplate = "wamid.HBgXQ08uNTI5MTg4MzAwNDc3MTYyMDMzNTgVAgARGBI1RjJBOTkwQzE4RDNCNzA0QzcA"
	msgShared   = "wamid.HBgXQ08uNTI5MTg4MzAwNDc3MTYyMDMzNTgVAgASGBQzQUUyQjg4RjA5QzFENTMwRjE0NgA="
	msgMateo    = "wamid.HBgXTVguMzA5ODExMjc3NDU1MjA5MTg2MzQVAgASGBQzQTk5RTE3QzQwQjJGNkQ4MTAzQQA="
	msgNewBSUID = "wamid.HBgXQ08uNjEwNDQ5ODIzMTU1NzAyMzk5MTcVAgASGBQzQUY1QzA3N0QxOEU5QjIyNEY4OQA="
	storyCallID = "wacid.HBgXQ08uNTI5MTg4MzAwNDc3MTYyMDMzNTgVAgASGCA3RjE0QzI5"

	storyPartitions = 2
)

// Contact ids are documented as "c_" + 16 hex digits of sha256(tenant NUL key type NUL value)
// of the key that created the contact (identity/doc.go); computed here independently.
func storyContactID(keyType, value string) string {
	sum := sha256.Sum256([]byte(storyTenant + "\x00" + keyType + "\x00" + value))
	return "c_" + hex.EncodeToString(sum[:8])
}

var (
	valentina = storyContactID("phone", vPhone1) // she was first seen by phone alone
	mateo     = storyContactID("bsuid", mBSUID)
)

// storyMessages returns the story's webhooks as Kafka messages, keyed by phone_number_id as
// `wapipe produce` keys them. The delivered status is sent twice, as Meta retries do.
func storyMessages(t *testing.T) []kafka.Message {
	t.Helper()
	files, err := filepath.Glob("testdata/story/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("story webhooks: %v (%d files)", err, len(files))
	}
	slices.Sort(files)
	var msgs []kafka.Message
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var hook struct {
			Entry []struct {
				Changes []struct {
					Value struct {
						Metadata struct {
							PhoneNumberID string `json:"phone_number_id"`
						} `json:"metadata"`
					} `json:"value"`
				} `json:"changes"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(body, &hook); err != nil || len(hook.Entry) == 0 || len(hook.Entry[0].Changes) == 0 {
			t.Fatalf("%s: not a webhook body: %v", f, err)
		}
		m := kafka.Message{Key: []byte(hook.Entry[0].Changes[0].Value.Metadata.PhoneNumberID), Value: body}
		msgs = append(msgs, m)
		if strings.Contains(f, "status-delivered") {
			msgs = append(msgs, m) // Meta's redelivery
		}
	}
	return msgs
}

// replayStory produces the story, runs one worker until every webhook is committed (so its rows
// are durable), stops it, and returns the env whose database holds the story.
func replayStory(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, storyPartitions)
	msgs := storyMessages(t)
	e.produce(msgs)
	w := e.startWorker(t.TempDir())
	waitFor(t, 90*time.Second, "every story webhook committed", func() bool {
		return e.committed("wapipe", storyPartitions) == int64(len(msgs))
	})
	if t.Failed() {
		t.FailNow()
	}
	w.stop(t)
	return e
}

// table runs a query (naming the test's database as $db) and returns its rows as text:
// NULL for NULL, times as 2006-01-02 15:04:05 (dates as 2006-01-02), numbers as Go prints them.
func (e *env) table(query string) ([][]string, error) {
	_, out, err := e.tableColumns(query)
	return out, err
}

// tableColumns is table with the result's column names.
func (e *env) tableColumns(query string) ([]string, [][]string, error) {
	q := strings.ReplaceAll(query, "$db", e.database)
	rows, err := e.conn.Query(context.Background(), q)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	var out [][]string
	for rows.Next() {
		cells := make([]any, len(types))
		for i, ct := range types {
			cells[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(cells...); err != nil {
			return nil, nil, err
		}
		text := make([]string, len(cells))
		for i, c := range cells {
			text[i] = cellText(reflect.ValueOf(c).Elem(), types[i].DatabaseTypeName())
		}
		out = append(out, text)
	}
	return rows.Columns(), out, rows.Err()
}

func cellText(v reflect.Value, dbType string) string {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "NULL"
		}
		v = v.Elem()
	}
	switch x := v.Interface().(type) {
	case time.Time:
		if strings.Contains(dbType, "DateTime") {
			return x.UTC().Format("2006-01-02 15:04:05")
		}
		return x.UTC().Format("2006-01-02")
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		if x {
			return "1"
		}
		return "0"
	}
	return fmt.Sprint(v.Interface())
}

// expectTable compares a query's rows with want, reporting every differing row.
func (e *env) expectTable(t *testing.T, what, query string, want [][]string) {
	t.Helper()
	got, err := e.table(query)
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	if reflect.DeepEqual(got, want) {
		return
	}
	var b strings.Builder
	for i := 0; i < max(len(got), len(want)); i++ {
		var g, w []string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if !slices.Equal(g, w) {
			fmt.Fprintf(&b, "\n  row %d:\n    got  %q\n    want %q", i, g, w)
		}
	}
	t.Errorf("%s differs:%s", what, b.String())
}

// Times of the story, UTC.
const (
	atLegacy    = "2026-03-02 16:40:00"
	atBoth      = "2026-04-15 12:10:00"
	atHidden    = "2026-06-10 10:00:00"
	atAd        = "2026-06-10 10:05:00"
	atSent      = "2026-06-10 10:30:00"
	atDelivered = "2026-06-10 10:30:04"
	atCallStart = "2026-06-10 11:00:03"
	atCallEnd   = "2026-06-10 11:04:06"
	atTerminate = "2026-06-10 11:04:10"
	atShared    = "2026-06-10 11:12:00"
	atMateo     = "2026-06-10 14:00:00"
	atChange    = "2026-06-11 08:00:00"
	atNewBSUID  = "2026-06-11 08:05:00"
)

// nullCell is how table shows NULL.
const nullCell = "NULL"

// rowOf builds an expected row.
func rowOf(cells ...string) []string { return cells }

func TestStoryOneCustomerThroughTheBSUIDRollout(t *testing.T) {
	e := replayStory(t)

	// One row per message, system messages excluded; BSUID-only rows carry the phone from identity;
	// rows after the ad click carry the ad (the attribution window is 168h).
	e.expectTable(t, "chat_report", `SELECT tenant_id, waba_id, phone_number_id, message_id, direction, message_type,
		status, sent_at, status_at, error_code, ad_source_id, ctwa_clid,
		contact_id, bsuid, username, phone, phone_source, profile_name
		FROM $db.chat_report FINAL ORDER BY sent_at, message_id`, [][]string{
		rowOf(storyTenant, storyTenant, storyPNID, msgLegacy, "inbound", "text", "received", atLegacy, atLegacy, nullCell, nullCell, nullCell,
			valentina, "", "", vPhone1, "webhook", vName),
		rowOf(storyTenant, storyTenant, storyPNID, msgBoth, "inbound", "text", "received", atBoth, atBoth, nullCell, nullCell, nullCell,
			valentina, vBSUID1, "", vPhone1, "webhook", vName),
		rowOf(storyTenant, storyTenant, storyPNID, msgHidden, "inbound", "text", "received", atHidden, atHidden, nullCell, nullCell, nullCell,
			valentina, vBSUID1, vUsername, vPhone1, "identity", vName),
		rowOf(storyTenant, storyTenant, storyPNID, msgAd, "inbound", "text", "received", atAd, atAd, nullCell, storyAd, vClid,
			valentina, vBSUID1, vUsername, vPhone1, "identity", vName),
		rowOf(storyTenant, storyTenant, storyPNID, msgTemplate, "outbound", "", "delivered", atSent, atDelivered, nullCell, storyAd, vClid,
			valentina, vBSUID1, vUsername, vPhone1, "identity", vName),
		rowOf(storyTenant, storyTenant, storyPNID, msgShared, "inbound", "contacts", "received", atShared, atShared, nullCell, storyAd, vClid,
			valentina, vBSUID1, vUsername, vPhone1, "webhook", vName),
		rowOf(storyTenant, storyTenant, storyPNID2, msgMateo, "inbound", "text", "received", atMateo, atMateo, nullCell, storyAd, mClid,
			mateo, mBSUID, mUsername, nullCell, "", mName),
		rowOf(storyTenant, storyTenant, storyPNID, msgNewBSUID, "inbound", "text", "received", atNewBSUID, atNewBSUID, nullCell, storyAd, vClid,
			valentina, vBSUID2, vUsername, vPhone2, "identity", vName),
	})

	// One row per billed message although pricing came on sent and (twice) on delivered;
	// billed_at is the first status that carried it.
	e.expectTable(t, "package_usage_report", `SELECT tenant_id, waba_id, phone_number_id, message_id, billed_at,
		pricing_model, pricing_type, pricing_category, billable, conversation_id, conversation_origin, ad_source_id,
		contact_id, bsuid, username, phone, phone_source, profile_name
		FROM $db.package_usage_report FINAL ORDER BY message_id`, [][]string{
		rowOf(storyTenant, storyTenant, storyPNID, msgTemplate, atSent, "PMP", "regular", "marketing", "1", nullCell, nullCell, storyAd,
			valentina, vBSUID1, vUsername, vPhone1, "identity", vName),
	})

	e.expectTable(t, "voice_report", `SELECT tenant_id, waba_id, phone_number_id, call_id, direction, status,
		started_at, ended_at, duration_seconds, event_at, contact_id, bsuid, username, phone, phone_source, profile_name
		FROM $db.voice_report FINAL ORDER BY call_id`, [][]string{
		rowOf(storyTenant, storyTenant, storyPNID, storyCallID, "USER_INITIATED", "COMPLETED", atCallStart, atCallEnd, "243", atTerminate,
			valentina, vBSUID1, vUsername, vPhone1, "identity", vName),
	})

	// Every row of leads, tombstones included: one lead each, no merge ever happened.
	e.expectTable(t, "leads", `SELECT tenant_id, contact_id, ad_source_id, source_type, source_url, headline,
		media_type, ctwa_clid, first_message_id, first_touch_at, last_touch_at, touches, phone_number_id,
		bsuid, username, phone, phone_source, profile_name
		FROM $db.leads FINAL ORDER BY first_touch_at, contact_id`, [][]string{
		rowOf(storyTenant, valentina, storyAd, "ad", storyAdURL, storyAdHeadline, "image", vClid, msgAd, atAd, atAd, "1", storyPNID,
			vBSUID1, vUsername, vPhone1, "identity", vName),
		rowOf(storyTenant, mateo, storyAd, "ad", storyAdURL, storyAdHeadline, "image", mClid, msgMateo, atMateo, atMateo, "1", storyPNID2,
			mBSUID, mUsername, nullCell, "", mName),
	})

	// One contact for Valentina, never merged, with the new BSUID and the number from the
	// change notice; Mateo has no phone.
	e.expectTable(t, "identities", `SELECT tenant_id, contact_id, bsuid, parent_bsuid, phone, username, profile_name,
		country, phone_source, first_seen, last_seen, merged_into
		FROM $db.identities FINAL ORDER BY first_seen, contact_id`, [][]string{
		rowOf(storyTenant, valentina, vBSUID2, nullCell, vPhone2, vUsername, vName, "CO", "system", atLegacy, atNewBSUID, ""),
		rowOf(storyTenant, mateo, mBSUID, nullCell, nullCell, mUsername, mName, "MX", "", atMateo, atMateo, ""),
	})

	// Every identifier ever seen, old BSUID and old phone included, resolving to Valentina's one contact.
	e.expectTable(t, "contact_keys", `SELECT tenant_id, key_type, key_value, contact_id, first_seen, last_seen
		FROM $db.contact_keys FINAL ORDER BY key_type, key_value`, [][]string{
		rowOf(storyTenant, "bsuid", vBSUID1, valentina, atBoth, atChange),
		rowOf(storyTenant, "bsuid", vBSUID2, valentina, atChange, atNewBSUID),
		rowOf(storyTenant, "bsuid", mBSUID, mateo, atMateo, atMateo),
		rowOf(storyTenant, "phone", vPhone1, valentina, atLegacy, atChange),
		rowOf(storyTenant, "phone", vPhone2, valentina, atChange, atChange),
		rowOf(storyTenant, "username", mUsername, mateo, atMateo, atMateo),
		rowOf(storyTenant, "username", vUsername, valentina, atHidden, atNewBSUID),
	})

	// The views put today's contact beside every row: Valentina's new BSUID and phone on all of hers.
	today := func(id string) []string {
		if id == mateo {
			return rowOf(mateo, mBSUID, nullCell, mUsername)
		}
		return rowOf(valentina, vBSUID2, vPhone2, vUsername)
	}
	var chat [][]string
	for _, m := range []struct{ id, contact string }{{msgLegacy, valentina}, {msgBoth, valentina},
		{msgHidden, valentina}, {msgAd, valentina}, {msgTemplate, valentina}, {msgShared, valentina},
		{msgMateo, mateo}, {msgNewBSUID, valentina}} {
		chat = append(chat, append(rowOf(m.id), today(m.contact)...))
	}
	e.expectTable(t, "chat_report_current", `SELECT message_id, current_contact_id, current_bsuid, current_phone,
		current_username FROM $db.chat_report_current ORDER BY sent_at, message_id`, chat)
	e.expectTable(t, "package_usage_report_current", `SELECT message_id, current_contact_id, current_bsuid,
		current_phone, current_username FROM $db.package_usage_report_current`, [][]string{
		append(rowOf(msgTemplate), today(valentina)...)})
	e.expectTable(t, "voice_report_current", `SELECT call_id, current_contact_id, current_bsuid, current_phone,
		current_username FROM $db.voice_report_current`, [][]string{append(rowOf(storyCallID), today(valentina)...)})
	e.expectTable(t, "leads_current", `SELECT ad_source_id, touches, current_contact_id, current_bsuid,
		current_phone, current_username FROM $db.leads_current ORDER BY first_touch_at`, [][]string{
		append(rowOf(storyAd, "1"), today(valentina)...), append(rowOf(storyAd, "1"), today(mateo)...)})
	e.expectTable(t, "contacts_current", `SELECT contact_id, current_contact_id, merged, current_bsuid,
		current_phone, current_phone_source, current_username, current_country FROM $db.contacts_current
		ORDER BY contact_id`, sortRows([][]string{
		rowOf(valentina, valentina, "0", vBSUID2, vPhone2, "system", vUsername, "CO"),
		rowOf(mateo, mateo, "0", mBSUID, nullCell, "", mUsername, "MX"),
	}))
}

func sortRows(rows [][]string) [][]string {
	slices.SortFunc(rows, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	return rows
}
