package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// Contract 4 rule 8 (issue 4): three workers share a six-partition topic. Each user's
// phone-only message and then a message with phone and BSUID go to a partition of one
// worker; later the same user writes with the BSUID alone (username, phone hidden) on a
// partition of another worker. Every chat row of the user carries one contact_id, and the
// BSUID-only rows carry the phone with phone_source = identity. Then a worker restarted
// with its state and a fresh worker without state resolve the same contacts, and a
// fourth round of BSUID-only traffic on every partition still lands on them.
func TestWorkersAgreeOnIdentity(t *testing.T) {
	const partitions, users = 6, 12
	e := newEnv(t, partitions)
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	var workers []*worker
	for _, d := range dirs {
		workers = append(workers, e.startWorker(d))
	}
	allReady := func(ws []*worker) func() bool {
		return func() bool {
			for _, w := range ws {
				if w.ready() != 200 {
					return false
				}
			}
			return true
		}
	}
	waitFor(t, 2*time.Minute, "three workers owning partitions", allReady(workers))
	owners := e.partitionOwners("wapipe")
	if len(owners) != 3 {
		t.Fatalf("want 3 members owning partitions, got %v", owners)
	}
	first, later := owners[0][0], owners[1][0] // owned by two different workers
	t.Logf("phone traffic on partition %d, BSUID-only traffic on partition %d (owners %v)", first, later, owners)

	var msgs []kafka.Message
	for u := range users {
		msgs = append(msgs, inbound(first, u, 0, true, false), inbound(first, u, 1, true, true))
	}
	e.producePartitions(msgs)
	waitFor(t, time.Minute, "the phone traffic durable", func() bool {
		return e.count("SELECT count() FROM $db.chat_report FINAL") == 2*users
	})
	// Every worker learns each link, whichever partition carried it.
	for i, w := range workers {
		waitFor(t, 30*time.Second, fmt.Sprintf("worker %d to know every user's BSUID", i+1), func() bool {
			for u := range users {
				if c, ok := w.contact("bsuid", userBSUID(u)); !ok || c.ID != userContact(u) || c.Phone != userPhone(u) {
					return false
				}
			}
			return true
		})
	}
	msgs = msgs[:0]
	for u := range users {
		msgs = append(msgs, inbound(later, u, 2, false, true))
	}
	e.producePartitions(msgs)
	waitFor(t, time.Minute, "the BSUID-only traffic durable", func() bool {
		return e.count("SELECT count() FROM $db.chat_report FINAL") == 3*users
	})
	e.expectOneContactPerUser(users, 3)

	// A worker restarted with its state, and a new one with none, resolve the same way.
	workers[0].stop(t)
	workers[0] = e.startWorker(dirs[0])
	fresh := e.startWorker(t.TempDir())
	workers = append(workers, fresh)
	waitFor(t, 2*time.Minute, "the restarted and the fresh worker ready", allReady([]*worker{workers[0], fresh}))
	for u := range users {
		for i, w := range []*worker{workers[0], fresh} {
			if c, ok := w.contact("username", userName(u)); !ok || c.ID != userContact(u) || c.Phone != userPhone(u) {
				t.Errorf("worker %d after restart: username %s -> %+v (found %v), want %s with phone %s", i, userName(u), c, ok, userContact(u), userPhone(u))
			}
		}
	}
	msgs = msgs[:0]
	for u := range users {
		for p := range partitions {
			msgs = append(msgs, inbound(p, u, 3+p, false, true))
		}
	}
	e.producePartitions(msgs)
	want := int64(3*users + partitions*users)
	waitFor(t, 2*time.Minute, "the last round durable", func() bool {
		return e.count("SELECT count() FROM $db.chat_report FINAL") == want
	})
	e.expectOneContactPerUser(users, 3+partitions)
	if n := e.count("SELECT count() FROM $db.identities FINAL WHERE merged_into = ''"); n != users {
		t.Errorf("%d live contacts in identities, want %d", n, users)
	}
}

// expectOneContactPerUser checks every chat row of each user: one contact_id, the phone on
// every row, from identity where the webhook had none.
func (e *env) expectOneContactPerUser(users, perUser int) {
	e.t.Helper()
	for u := range users {
		q := fmt.Sprintf(`SELECT count(), uniqExact(contact_id), any(contact_id),
			countIf(phone = '%s'), countIf(phone_source = 'identity'), countIf(bsuid = '%s')
			FROM $db.chat_report FINAL WHERE message_id LIKE 'wamid.rule8.%d.%%'`, userPhone(u), userBSUID(u), u)
		var rows, ids, withPhone, fromIdentity, withBSUID uint64
		var id string
		if err := e.conn.QueryRow(context.Background(), strings.ReplaceAll(q, "$db", e.database)).
			Scan(&rows, &ids, &id, &withPhone, &fromIdentity, &withBSUID); err != nil {
			e.t.Fatal(err)
		}
		if rows != uint64(perUser) || ids != 1 || id != userContact(u) || withPhone != rows || fromIdentity != rows-2 || withBSUID != rows-1 {
			e.t.Errorf("user %d: %d rows, %d contact ids (%s, want %s), %d with the phone, %d from identity, %d with the BSUID; want %d rows, 1 id, all with the phone, %d from identity",
				u, rows, ids, id, userContact(u), withPhone, fromIdentity, withBSUID, perUser, perUser-2)
		}
	}
}

func userPhone(u int) string   { return fmt.Sprintf("57300%07d", u) }
func userBSUID(u int) string   { return fmt.Sprintf("CO.77%018d", u) }
func userName(u int) string    { return fmt.Sprintf("@rule8.user%d", u) }
func userContact(u int) string { return storyContactID("phone", userPhone(u)) } // first met by phone

// inbound is a text message of user u, the n-th of the test, to partition p: with the
// phone (legacy wa_id/from) and/or the BSUID (user_id/from_user_id, with the username).
func inbound(p, u, n int, phone, bsuid bool) kafka.Message {
	contact := map[string]any{"profile": map[string]any{"name": fmt.Sprintf("User %d", u)}}
	msg := map[string]any{"id": fmt.Sprintf("wamid.rule8.%d.%d", u, n), "timestamp": strconv.Itoa(1780000000 + 600*n + u),
		"type": "text", "text": map[string]any{"body": "hola"}}
	if phone {
		contact["wa_id"], msg["from"] = userPhone(u), userPhone(u)
	}
	if bsuid {
		contact["user_id"], msg["from_user_id"] = userBSUID(u), userBSUID(u)
		contact["profile"].(map[string]any)["username"] = userName(u)
	}
	body := map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{
		"id": storyTenant, "changes": []any{map[string]any{"field": "messages", "value": map[string]any{
			"messaging_product": "whatsapp",
			"metadata":          map[string]any{"display_phone_number": "15550783881", "phone_number_id": storyPNID},
			"contacts":          []any{contact}, "messages": []any{msg}}}}}}}
	b, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	return kafka.Message{Key: []byte(fmt.Sprintf("%d/%s", p, storyPNID)), Value: b}
}

// producePartitions sends each message to the partition its key starts with ("3/...").
func (e *env) producePartitions(msgs []kafka.Message) {
	e.t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(e.brokers), Topic: topic, RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond,
		Balancer: kafka.BalancerFunc(func(m kafka.Message, _ ...int) int {
			p, _ := strconv.Atoi(strings.SplitN(string(m.Key), "/", 2)[0])
			return p
		})}
	defer w.Close()
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		e.t.Fatal(err)
	}
}

// partitionOwners returns the partitions of the input topic each group member owns.
func (e *env) partitionOwners(group string) [][]int {
	e.t.Helper()
	c := &kafka.Client{Addr: kafka.TCP(e.brokers), Timeout: 5 * time.Second}
	resp, err := c.DescribeGroups(context.Background(), &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
	if err != nil || len(resp.Groups) != 1 {
		e.t.Fatalf("describe group: %v %+v", err, resp)
	}
	var out [][]int
	for _, m := range resp.Groups[0].Members {
		for _, tp := range m.MemberAssignments.Topics {
			if tp.Topic == topic && len(tp.Partitions) > 0 {
				out = append(out, tp.Partitions)
			}
		}
	}
	return out
}

// apiContact is what these tests read of GET /v1/contacts (the identities column names).
type apiContact struct {
	ID       string `json:"contact_id"`
	Phone    string `json:"phone"`
	Username string `json:"username"`
}

// contact asks the worker's lookup API.
func (w *worker) contact(keyType, value string) (apiContact, bool) {
	body, err := httpGet("http://" + w.http + "/v1/contacts?" + keyType + "=" + url.QueryEscape(value))
	var c apiContact
	if err != nil || json.Unmarshal([]byte(body), &c) != nil {
		return c, false
	}
	return c, true
}

// Two consumer groups on one cluster (staging and production, say) keep their contacts
// apart: by default each shares contacts through an identity topic of its own.
func TestGroupsKeepTheirContactsApart(t *testing.T) {
	e := newEnv(t, 1)
	const phone, bsuid = "573015550888", "CO.88880000000000000001"
	e.produce([]kafka.Message{keyedInbound("wamid.groups.1", 1781000000, phone, bsuid, "")})
	production := e.startWorker(t.TempDir(), "--group", "production")
	waitFor(t, 60*time.Second, "production to learn the contact's phone", func() bool {
		return e.count("SELECT count() FROM $db.identities FINAL WHERE phone = '"+phone+"'") == 1
	})

	staging := e.database + "_staging"
	t.Cleanup(func() { _ = e.conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+staging) })
	w := e.startWorker(t.TempDir(), "--group", "staging", "--database", staging, "--start-offset", "latest")
	waitFor(t, 60*time.Second, "staging to be ready", func() bool { return w.ready() == 200 })
	e.produce([]kafka.Message{keyedInbound("wamid.groups.2", 1781000100, "", bsuid, "")})
	waitFor(t, 60*time.Second, "staging to write the message", func() bool {
		return e.count("SELECT count() FROM "+staging+".chat_report FINAL WHERE message_id = 'wamid.groups.2'") == 1
	})
	if n := e.count("SELECT count() FROM " + staging + ".chat_report FINAL WHERE phone IS NOT NULL"); n != 0 {
		t.Errorf("staging filled a phone only production knew (%d rows)", n)
	}
	if n := e.count("SELECT count() FROM " + staging + ".identities FINAL"); n != 1 {
		t.Errorf("staging has %d identities rows, want its one contact", n)
	}
	w.stop(t)
	production.stop(t)
}
