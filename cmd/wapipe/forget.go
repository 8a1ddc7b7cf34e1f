package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/wapipe/wapipe/internal/connect"
	"github.com/wapipe/wapipe/sinks/clickhouse"
)

// forgetCmd is `wapipe forget` (contract section 11): it erases a person's phone, username
// and profile name from every worker's state (an erasure record on the identity topic) and
// from every ClickHouse table, keeping every row.
func forgetCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("forget", flag.ContinueOnError)
	var c common
	var l layoutFlags
	c.clickhouseFlags(fs)
	l.register(fs)
	c.brokersFlag(fs)
	fs.StringVar(&c.group, "group", "wapipe", "consumer group id of the workers (names the identity topic)")
	keys := map[string]*string{
		"bsuid":      fs.String("bsuid", "", "forget the person of this BSUID"),
		"username":   fs.String("username", "", "forget the person of this username (case-insensitive, with its @)"),
		"phone":      fs.String("phone", "", "forget the person of this phone (its digits)"),
		keyContactID: fs.String("contact-id", "", "forget the person of this contact id (merged ones included)"),
	}
	tenant := fs.String("tenant", "", "the tenant (business portfolio); required when the key is known in several")
	topic := fs.String("identity-topic", "whatsapp.identity.{group}", "the workers' identity topic ({group} is --group); empty: no worker state to erase")
	settle := fs.Duration("settle", 5*time.Second,
		"how long to wait between publishing the erasure and erasing ClickHouse, so that running workers have applied it and write no more rows with the person's data")
	asJSON := fs.Bool("json", false, "print what was changed as JSON")
	if err := parse(fs, args); err != nil {
		return lookupFailed(err)
	}
	if fs.NArg() > 0 {
		return lookupFailed(fmt.Errorf("unexpected arguments %q: give a key with its flag, e.g. --phone X", fs.Args()))
	}
	keyType, value, err := recipientKey(func(kt string) string { return *keys[kt] })
	switch {
	case errors.Is(err, errOneKey):
		return lookupFailed(errors.New("give one of --bsuid, --username, --phone, --contact-id"))
	case err != nil:
		return lookupFailed(fmt.Errorf("--%w", err))
	}
	identityTopic, err := identityTopicName(*topic, c.group)
	if err != nil {
		return lookupFailed(err)
	}
	f := forget{c: c, layout: l.layout(), identityTopic: identityTopic, settle: *settle, now: time.Now}
	done, err := f.run(ctx, *tenant, keyType, value)
	if errors.Is(err, errNotFound) {
		fmt.Fprintf(os.Stderr, "no contact with %s %s\n", keyType, value)
		return err
	}
	if err != nil {
		return lookupFailed(err)
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(done)
	}
	done.print(os.Stdout)
	return nil
}

// forget is one erasure's settings.
type forget struct {
	c             common
	layout        clickhouse.Layout // on a cluster the mutations run ON CLUSTER on the _local tables
	identityTopic string
	settle        time.Duration
	now           func() time.Time
}

// forgotten is what forget changed, as it prints it.
type forgotten struct {
	TenantID   string                   `json:"tenant_id"`
	ContactID  string                   `json:"contact_id"`
	MergedFrom []string                 `json:"merged_from"`
	Cut        time.Time                `json:"erased_as_of"`
	Topic      string                   `json:"identity_topic"`
	Records    int                      `json:"erasure_records"`
	Tables     []clickhouse.ErasedTable `json:"-"`
	Rows       map[string]uint64        `json:"tables"` // per table: rows emptied (contact_keys: keys deleted)
	// Left are rows that hold the data again after the erasure: a worker that has not
	// applied it yet wrote them; they go once it has (or with another forget).
	Left map[string]uint64 `json:"left,omitempty"`
}

// run finds the person in ClickHouse, publishes the erasure to the workers, waits settle,
// then erases ClickHouse. The workers go first: once they have the erasure they write no
// more of the person's data for anything dated before the cut, so the mutations that follow
// leave none behind.
func (f forget) run(ctx context.Context, tenant, keyType, value string) (*forgotten, error) {
	cfg, err := f.c.clickhouseConfig(newLogger("warn"))
	if err != nil {
		return nil, err
	}
	cfg.Layout = f.layout
	ch, err := clickhouse.Open(ctx, cfg)
	if err != nil {
		return nil, connect.Explain("clickhouse", err)
	}
	defer ch.Close()
	done, err := f.erase(ctx, ch, tenant, keyType, value)
	return done, connect.Explain("clickhouse", err)
}

// erase is run on an open ClickHouse connection.
func (f forget) erase(ctx context.Context, ch *clickhouse.Client, tenant, keyType, value string) (*forgotten, error) {
	found, others, err := lookupClickHouse(ctx, ch, tenant, keyType, value)
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, errNotFound
	}
	if len(others) > 0 {
		return nil, fmt.Errorf("%s %s is known in tenants %s and %s: give --tenant", keyType, value, found.Tenant, strings.Join(others, ", "))
	}
	// The cut is now, or the contact's last sighting if that is later (a webhook's clock
	// ahead of this one): everything known of the person is dated at or before it.
	cut := max(f.now().Unix(), found.LastSeen)
	done := &forgotten{TenantID: found.Tenant, ContactID: found.ID, MergedFrom: append([]string{}, found.MergedFrom...),
		Cut: time.Unix(cut, 0).UTC(), Topic: f.identityTopic}
	ids := append([]string{found.ID}, found.MergedFrom...)
	// Counted first: the workers erase ClickHouse too once they have applied the erasure.
	if done.Tables, err = ch.Personal(ctx, found.Tenant, ids); err != nil {
		return nil, err
	}
	if f.identityTopic != "" {
		link, err := f.c.kafkaLink(newLogger("warn"))
		if err != nil {
			return nil, err
		}
		if err := publishErasure(ctx, newKafkaLink(split(f.c.brokers), link), f.identityTopic, found.Tenant, ids, done.Cut.Unix()); err != nil {
			return nil, connect.Explain("kafka", err)
		}
		done.Records = len(ids)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(f.settle):
		}
	}
	if _, err = ch.Erase(ctx, found.Tenant, ids); err != nil {
		return nil, err
	}
	left, err := ch.Personal(ctx, found.Tenant, ids)
	if err != nil {
		return nil, err
	}
	done.Rows, done.Left = map[string]uint64{}, map[string]uint64{}
	for i, t := range done.Tables {
		done.Rows[t.Table] = t.Rows
		if left[i].Rows > 0 {
			done.Left[t.Table] = left[i].Rows
		}
	}
	return done, nil
}

func (d *forgotten) print(w io.Writer) {
	fmt.Fprintf(w, "contact      %s (tenant %s)\n", d.ContactID, d.TenantID)
	if len(d.MergedFrom) > 0 {
		fmt.Fprintf(w, "merged from  %s\n", strings.Join(d.MergedFrom, ", "))
	}
	fmt.Fprintf(w, "erased as of %s: phone, username and profile name\n", d.Cut.Format(time.RFC3339))
	if d.Topic == "" {
		fmt.Fprintln(w, "workers      not told (no --identity-topic): their state still holds the data")
	} else {
		fmt.Fprintf(w, "workers      %d erasure record(s) on %s\n", d.Records, d.Topic)
	}
	for _, t := range d.Tables {
		what := "rows emptied"
		if t.Deleted {
			what = "phone/username keys deleted"
		}
		fmt.Fprintf(w, "  %-21s %d %s\n", t.Table, t.Rows, what)
	}
	for table, n := range d.Left {
		fmt.Fprintf(w, "warning: %s has %d rows with the data again (a worker that has not applied the erasure yet); they go once it has\n", table, n)
	}
}
