package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// docQuery is one ```sql block of docs/queries.md, under its ## heading.
type docQuery struct {
	heading, sql string
	answers      bool // the section says what it answers
}

// docQueries reads docs/queries.md: every "## " section that holds a ```sql block is a query.
// A section with two blocks is an error (which one would the expected result be for?).
func docQueries(t *testing.T) []docQuery {
	t.Helper()
	f, err := os.Open("../docs/queries.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out               []docQuery
		heading           string
		answers, inSQL    bool
		inOther, hasQuery bool
		sql               strings.Builder
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case inSQL && strings.TrimSpace(line) == "```":
			inSQL = false
			out = append(out, docQuery{heading: heading, sql: sql.String(), answers: answers})
		case inSQL:
			sql.WriteString(line + "\n")
		case inOther:
			inOther = !strings.HasPrefix(strings.TrimSpace(line), "```")
		case strings.HasPrefix(line, "```sql"):
			if hasQuery {
				t.Fatalf("docs/queries.md:%d: section %q has a second sql block", n, heading)
			}
			inSQL, hasQuery = true, true
			sql.Reset()
		case strings.HasPrefix(line, "```"):
			inOther = true
		case strings.HasPrefix(line, "## "):
			heading, answers, hasQuery = strings.TrimSpace(line[3:]), false, false
		case strings.HasPrefix(line, "What it answers: "):
			answers = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if inSQL {
		t.Fatalf("docs/queries.md: the sql block of %q is not closed", heading)
	}
	return out
}

// wantQueries is what each query of docs/queries.md returns for the story, by heading.
var wantQueries = map[string][][]string{
	"Messages per day and direction": {
		rowOf("2026-03-02", "inbound", "1"),
		rowOf("2026-04-15", "inbound", "1"),
		rowOf("2026-06-10", "inbound", "4"),
		rowOf("2026-06-10", "outbound", "1"),
		rowOf("2026-06-11", "inbound", "1"),
	},
	// contacts, phone_numbers, bsuids, messages, messages_without_phone, messages_phone_from_identity
	"Unique contacts versus unique phone numbers": {
		rowOf(storyTenant, "2", "2", "3", "8", "1", "4"),
	},
	"Package usage by category and day": {
		rowOf("2026-06-10", storyPNID, "marketing", "regular", "1", "1", "1"),
	},
	"Call minutes by direction and status": {
		rowOf("USER_INITIATED", "COMPLETED", "1", "243", "4.05"),
	},
	// leads, touches, answered_by_business, replied, leads_without_phone
	"Leads per ad, and how many replied": {
		rowOf(storyAd, storyAdHeadline, "2", "2", "1", "1", "1"),
	},
	"Contacts without a phone": {
		rowOf(storyTenant, mateo, mBSUID, mUsername, mName, "MX", atMateo, atMateo),
	},
	"Find a contact by username": {
		rowOf("username", vUsername, valentina, vBSUID2, vPhone2, vUsername, vName),
	},
	"Find a contact by BSUID, old or new": {
		rowOf("bsuid", vBSUID1, valentina, vBSUID2, vPhone2, vUsername, vName),
	},
	"Every message of one person": {
		rowOf(atLegacy, "inbound", "text", "received", "", vPhone1, "webhook"),
		rowOf(atBoth, "inbound", "text", "received", vBSUID1, vPhone1, "webhook"),
		rowOf(atHidden, "inbound", "text", "received", vBSUID1, vPhone1, "identity"),
		rowOf(atAd, "inbound", "text", "received", vBSUID1, vPhone1, "identity"),
		rowOf(atSent, "outbound", "", "delivered", vBSUID1, vPhone1, "identity"),
		rowOf(atShared, "inbound", "contacts", "received", vBSUID1, vPhone1, "webhook"),
		rowOf(atNewBSUID, "inbound", "text", "received", vBSUID2, vPhone2, "identity"),
	},
}

// The documented database name, as a whole identifier followed by a dot.
var docDatabase = regexp.MustCompile(`\bwapipe\.`)

// Every query of docs/queries.md runs against the story's data in ClickHouse and returns
// exactly the rows its section promises; a query that fails to run, or a section without an
// expected result, fails the test.
func TestQueriesInDocsAnswerTheStory(t *testing.T) {
	queries := docQueries(t)
	documented := map[string]bool{}
	for _, q := range queries {
		documented[q.heading] = true
		if _, ok := wantQueries[q.heading]; !ok {
			t.Errorf("docs/queries.md: query %q has no expected result in wantQueries", q.heading)
		}
		if !q.answers {
			t.Errorf("docs/queries.md: query %q does not say what it answers (a \"What it answers: \" line)", q.heading)
		}
		if !docDatabase.MatchString(q.sql) {
			t.Errorf("docs/queries.md: query %q does not name the database wapipe", q.heading)
		}
	}
	for h := range wantQueries {
		if !documented[h] {
			t.Errorf("wantQueries has %q, which docs/queries.md lacks", h)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	e := replayStory(t)
	for _, q := range queries {
		t.Run(q.heading, func(t *testing.T) {
			sql := docDatabase.ReplaceAllString(q.sql, e.database+".")
			e.expectTable(t, q.heading, sql, wantQueries[q.heading])
		})
	}
}

// The same queries run on the demo's generated traffic (merges, number and BSUID changes,
// redeliveries, many contacts and ads), where their totals must agree with the generator's
// expected counts, and the views must resolve every row to a surviving contact without
// dropping or repeating rows.
func TestQueriesInDocsOnDemoData(t *testing.T) {
	const partitions = 3
	e := newEnv(t, partitions)
	msgs, exp := generate(2_000, 5, 0)
	e.produce(msgs)
	w := e.startWorker(t.TempDir())
	e.expectReports(exp, 90*time.Second)
	waitFor(t, 30*time.Second, "offsets committed for every record", func() bool {
		return e.committed("wapipe", partitions) == int64(len(msgs))
	})
	w.stop(t)
	if t.Failed() {
		t.FailNow()
	}

	// Totals of a column over a doc query's rows, where the generator knows them.
	totals := map[string]map[string]int64{
		"Messages per day and direction":              {"messages": int64(exp.ChatRows)},
		"Unique contacts versus unique phone numbers": {"messages": int64(exp.ChatRows)},
		"Package usage by category and day":           {"messages": int64(exp.UsageRows)},
		"Call minutes by direction and status":        {"calls": int64(exp.Calls), "seconds": exp.CallSeconds},
		"Leads per ad, and how many replied":          {"leads": int64(exp.Leads), "touches": int64(exp.Referrals)},
	}
	for _, q := range docQueries(t) {
		t.Run(q.heading, func(t *testing.T) {
			cols, rows, err := e.tableColumns(docDatabase.ReplaceAllString(q.sql, e.database+"."))
			if err != nil {
				t.Fatalf("%s: %v", q.heading, err)
			}
			for col, want := range totals[q.heading] {
				k := slices.Index(cols, col)
				if k < 0 {
					t.Fatalf("%s: no column %s in %v", q.heading, col, cols)
				}
				var sum int64
				for _, row := range rows {
					n, err := strconv.ParseInt(row[k], 10, 64)
					if err != nil {
						t.Fatalf("%s: %s = %q", q.heading, col, row[k])
					}
					sum += n
				}
				if sum != want {
					t.Errorf("%s: sum(%s) = %d, want %d", q.heading, col, sum, want)
				}
			}
		})
	}

	// The views: as many rows as the tables (FINAL), every contact resolved to a survivor.
	views := []struct {
		query string
		want  int64
	}{
		{"SELECT count() FROM $db.chat_report_current", int64(exp.ChatRows)},
		{"SELECT count() FROM $db.package_usage_report_current", int64(exp.UsageRows)},
		{"SELECT count() FROM $db.voice_report_current", int64(exp.VoiceRows)},
		{"SELECT count() FROM $db.leads_current", int64(exp.Leads)},
		{"SELECT sum(touches) FROM $db.leads_current", int64(exp.Referrals)},
		// No two live leads of one contact today for one ad: merges folded them.
		{"SELECT uniqExact(tenant_id, current_contact_id, ad_source_id) FROM $db.leads_current", int64(exp.Leads)},
		{"SELECT count() FROM $db.contacts_current", e.count("SELECT count() FROM $db.identities FINAL")},
		{"SELECT countIf(merged) FROM $db.contacts_current", e.count("SELECT count() FROM $db.identities FINAL WHERE merged_into != ''")},
		{"SELECT uniqExact(tenant_id, current_contact_id) FROM $db.contacts_current", int64(exp.Contacts)},
		// Every survivor is a live contact (chains of merges followed to their end).
		{`SELECT count() FROM $db.contacts_current WHERE (tenant_id, current_contact_id) NOT IN
			(SELECT tenant_id, contact_id FROM $db.identities FINAL WHERE merged_into = '')`, 0},
	}
	for _, table := range []string{"chat_report_current", "package_usage_report_current", "voice_report_current", "leads_current"} {
		views = append(views, struct {
			query string
			want  int64
		}{fmt.Sprintf(`SELECT count() FROM $db.%s WHERE contact_id != '' AND (tenant_id, current_contact_id) NOT IN
			(SELECT tenant_id, contact_id FROM $db.identities FINAL WHERE merged_into = '')`, table), 0})
	}
	for _, v := range views {
		if got := e.count(v.query); got != v.want {
			t.Errorf("%s = %d, want %d", strings.Join(strings.Fields(v.query), " "), got, v.want)
		}
	}
}

// The views follow merged_into chains to the survivor, four merges deep (the generator's
// traffic rarely chains merges, so the chain is written by hand here), read every table with
// FINAL, leave merged-away leads out, and keep rows without a contact.
func TestQueriesViewsFollowMergeChains(t *testing.T) {
	e := newEnv(t, 1)
	if out, err := exec.Command(binary, "migrate", "--clickhouse", e.chAddr, "--database", e.database).CombinedOutput(); err != nil {
		t.Fatalf("wapipe migrate: %v\n%s", err, out)
	}
	// insert writes rows given as SQL literals, with INSERT ... SELECT: INSERT ... VALUES sent
	// through this driver's Exec hangs on ClickHouse 18.16.
	insert := func(table, columns string, rows ...string) {
		t.Helper()
		q := fmt.Sprintf("INSERT INTO %s.%s (%s) SELECT %s", e.database, table, columns,
			strings.Join(rows, " UNION ALL SELECT "))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := e.conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// a → b → c → d → e (a chain of four merges); x stands alone; in tenant u, a is someone else.
	// Older versions of a row (b before its merge, e before its number change) must not show.
	insert("identities", "tenant_id, contact_id, bsuid, phone, username, phone_source, merged_into, version",
		`'t', 'a', 'CO.1', NULL, NULL, '', 'b', 5`,
		`'t', 'b', NULL, '571', NULL, 'webhook', '', 1`,
		`'t', 'b', NULL, '571', NULL, 'webhook', 'c', 6`,
		`'t', 'c', 'CO.3', NULL, NULL, '', 'd', 7`,
		`'t', 'd', NULL, NULL, '@d', '', 'e', 8`,
		`'t', 'e', 'CO.5', '575', '@e', 'webhook', '', 2`,
		`'t', 'x', 'MX.9', NULL, '@x', '', '', 3`,
		`'u', 'a', 'US.7', '1555', NULL, 'webhook', '', 4`)
	insert("identities", "tenant_id, contact_id, bsuid, phone, username, phone_source, merged_into, version",
		`'t', 'e', 'CO.6', '576', '@e', 'system', '', 9`)
	insert("chat_report", "tenant_id, message_id, contact_id, version",
		`'t', 'm1', 'a', 1`,
		`'t', 'm2', 'c', 1`,
		`'t', 'm3', 'e', 1`,
		`'t', 'm4', 'x', 1`,
		`'t', 'm5', '', 1`,
		`'u', 'm6', 'a', 1`,
		`'t', 'm1', 'a', 2`)
	insert("package_usage_report", "tenant_id, message_id, contact_id, version",
		`'t', 'm1', 'b', 1`)
	insert("voice_report", "tenant_id, call_id, contact_id, version",
		`'t', 'c1', 'd', 1`)
	// a's lead merged into b's (touches 0 after the merge); b's lead moved on with b's merges to e.
	insert("leads", "tenant_id, contact_id, ad_source_id, touches, version",
		`'t', 'a', 'ad1', 1, 1`,
		`'t', 'e', 'ad1', 3, 1`,
		`'t', 'x', 'ad1', 1, 1`)
	insert("leads", "tenant_id, contact_id, ad_source_id, touches, version",
		`'t', 'a', 'ad1', 0, 2`)

	e.expectTable(t, "contacts_current", `SELECT tenant_id, contact_id, current_contact_id, merged, current_bsuid,
		current_phone, current_phone_source, current_username, current_country
		FROM $db.contacts_current ORDER BY tenant_id, contact_id`, [][]string{
		rowOf("t", "a", "e", "1", "CO.6", "576", "system", "@e", ""),
		rowOf("t", "b", "e", "1", "CO.6", "576", "system", "@e", ""),
		rowOf("t", "c", "e", "1", "CO.6", "576", "system", "@e", ""),
		rowOf("t", "d", "e", "1", "CO.6", "576", "system", "@e", ""),
		rowOf("t", "e", "e", "0", "CO.6", "576", "system", "@e", ""),
		rowOf("t", "x", "x", "0", "MX.9", nullCell, "", "@x", ""),
		rowOf("u", "a", "a", "0", "US.7", "1555", "webhook", nullCell, ""),
	})
	e.expectTable(t, "chat_report_current", `SELECT tenant_id, message_id, contact_id, current_contact_id,
		current_bsuid, current_phone, current_username FROM $db.chat_report_current ORDER BY tenant_id, message_id`,
		[][]string{
			rowOf("t", "m1", "a", "e", "CO.6", "576", "@e"),
			rowOf("t", "m2", "c", "e", "CO.6", "576", "@e"),
			rowOf("t", "m3", "e", "e", "CO.6", "576", "@e"),
			rowOf("t", "m4", "x", "x", "MX.9", nullCell, "@x"),
			rowOf("t", "m5", "", "", nullCell, nullCell, nullCell),
			rowOf("u", "m6", "a", "a", "US.7", "1555", nullCell),
		})
	e.expectTable(t, "package_usage_report_current", `SELECT message_id, current_contact_id, current_phone
		FROM $db.package_usage_report_current`, [][]string{rowOf("m1", "e", "576")})
	e.expectTable(t, "voice_report_current", `SELECT call_id, current_contact_id, current_phone
		FROM $db.voice_report_current`, [][]string{rowOf("c1", "e", "576")})
	e.expectTable(t, "leads_current", `SELECT contact_id, ad_source_id, touches, current_contact_id, current_bsuid
		FROM $db.leads_current ORDER BY contact_id`, [][]string{
		rowOf("e", "ad1", "3", "e", "CO.6"),
		rowOf("x", "ad1", "1", "x", "MX.9"),
	})
}
