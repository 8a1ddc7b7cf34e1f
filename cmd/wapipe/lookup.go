package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/wapipe/wapipe/identity"
	"github.com/wapipe/wapipe/sinks/clickhouse"
)

func lookupCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("lookup", flag.ContinueOnError)
	var c common
	c.clickhouseFlags(fs)
	bsuid := fs.String("bsuid", "", "find the contact of this BSUID (or parent BSUID)")
	username := fs.String("username", "", "find the contact of this username (case-insensitive, with its @)")
	phone := fs.String("phone", "", "find the contact of this phone (digits)")
	tenant := fs.String("tenant", "", "the tenant (business portfolio); default: any")
	worker := fs.String("worker", "", "ask a running worker (its --listen URL, e.g. http://127.0.0.1:9464) instead of ClickHouse")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	keyType, value := "", ""
	for kt, v := range map[string]string{"bsuid": *bsuid, "username": *username, "phone": *phone} {
		if v != "" {
			if keyType != "" {
				return errors.New("give one of --bsuid, --username, --phone")
			}
			keyType, value = kt, v
		}
	}
	if keyType == "" {
		return errors.New("give one of --bsuid, --username, --phone")
	}
	var contact *contactJSON
	var err error
	if *worker != "" {
		contact, err = lookupWorker(ctx, *worker, *tenant, keyType, value)
	} else {
		var ch *clickhouse.Client
		if ch, err = clickhouse.Open(ctx, clickhouse.Config{Addrs: split(c.clickhouse), Database: c.database}); err != nil {
			return err
		}
		defer ch.Close()
		var found *identity.Contact
		if found, err = lookupClickHouse(ctx, ch, *tenant, keyType, value); found != nil {
			j := toJSON(found)
			contact = &j
		}
	}
	if err != nil {
		return err
	}
	if contact == nil {
		fmt.Fprintf(os.Stderr, "no contact with %s %s\n", keyType, value)
		return errNotFound
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(contact)
	}
	printContact(os.Stdout, contact)
	return nil
}

func lookupWorker(ctx context.Context, base, tenant, keyType, value string) (*contactJSON, error) {
	q := url.Values{keyType: {value}}
	if tenant != "" {
		q.Set("tenant", tenant)
	}
	if !strings.Contains(base, "://") {
		base = "http://" + base // the worker's --listen address as it is given
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/v1/contacts?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("worker answered %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	var c contactJSON
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		return nil, fmt.Errorf("the worker's answer: %w", err)
	}
	return &c, nil
}

func lookupIn(ids *identity.Store) contactFinder {
	return func(tenant, keyType, value string) (any, bool, error) {
		c, ok, err := ids.Lookup(tenant, keyType, value)
		if !ok || err != nil {
			return nil, ok, err
		}
		return toJSON(&c), true, nil
	}
}
