package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/wapipe/wapipe/identity"
	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/sinks/clickhouse"
)

func lookupCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("lookup", flag.ContinueOnError)
	var c common
	c.clickhouseFlags(fs)
	bsuid := fs.String("bsuid", "", "find the contact of this BSUID (or parent BSUID)")
	username := fs.String("username", "", "find the contact of this username (case-insensitive, with its @)")
	phone := fs.String("phone", "", "find the contact of this phone (its digits: +57 301 555 0142 is 573015550142)")
	tenant := fs.String("tenant", "", "the tenant (business portfolio); default: any")
	worker := fs.String("worker", "", "ask a running worker (its --listen URL, e.g. http://127.0.0.1:9464) instead of ClickHouse")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return lookupFailed(err)
	}
	contact, err := lookupContact(ctx, c, *worker, *tenant, *bsuid, *username, *phone)
	if err != nil {
		return lookupFailed(err)
	}
	if contact == nil {
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

// lookupFailed gives a failed lookup exit code 2, so that a script tells "no such contact"
// (exit 1) from a lookup that could not be made (ClickHouse or the worker away, bad flags).
func lookupFailed(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return exitError{code: 2, err: err}
}

// lookupContact finds the contact, or returns nil after saying on stderr that none is known.
func lookupContact(ctx context.Context, c common, worker, tenant, bsuid, username, phone string) (*contactJSON, error) {
	keyType, value := "", ""
	for kt, v := range map[string]string{"bsuid": bsuid, "username": username, "phone": phone} {
		if v != "" {
			if keyType != "" {
				return nil, errors.New("give one of --bsuid, --username, --phone")
			}
			keyType, value = kt, v
		}
	}
	if keyType == "" {
		return nil, errors.New("give one of --bsuid, --username, --phone")
	}
	if keyType == "phone" {
		var ok bool
		if value, ok = model.PhoneDigits(value); !ok {
			return nil, fmt.Errorf("--phone %q is not a phone number", phone)
		}
	}
	var contact *contactJSON
	if worker != "" {
		var err error
		if contact, err = lookupWorker(ctx, worker, tenant, keyType, value); err != nil {
			return nil, err
		}
	} else {
		ch, err := clickhouse.Open(ctx, clickhouse.Config{Addrs: split(c.clickhouse), Database: c.database})
		if err != nil {
			return nil, err
		}
		defer ch.Close()
		found, others, err := lookupClickHouse(ctx, ch, tenant, keyType, value)
		if err != nil {
			return nil, err
		}
		if found != nil {
			j := toJSON(found)
			contact = &j
		}
		if len(others) > 0 {
			fmt.Fprintf(os.Stderr, "%s %s is also known in tenant %s: this is the contact seen last; give --tenant for another\n",
				keyType, value, strings.Join(others, ", "))
		}
	}
	if contact == nil {
		fmt.Fprintf(os.Stderr, "no contact with %s %s\n", keyType, value)
	}
	return contact, nil
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

// lookupIn finds contacts in the worker's store as lookupClickHouse does in ClickHouse: a
// BSUID may also be a parent BSUID, and of the tenants that know the key the one where it
// was seen last answers (ties: the smaller tenant id).
func lookupIn(ids *identity.Store) contactFinder {
	return func(tenant, keyType, value string) (any, bool, error) {
		cs, err := ids.LookupAll(tenant, keyType, value)
		if len(cs) == 0 && err == nil && keyType == identity.KeyBSUID {
			keyType = identity.KeyParentBSUID
			cs, err = ids.LookupAll(tenant, keyType, value)
		}
		if len(cs) == 0 || err != nil {
			return nil, false, err
		}
		best := slices.MaxFunc(cs, func(a, b identity.Contact) int {
			return cmp.Or(cmp.Compare(keySeen(a, keyType, value), keySeen(b, keyType, value)), cmp.Compare(b.Tenant, a.Tenant))
		})
		return toJSON(&best), true, nil
	}
}

// keySeen is when the contact's key of that type and value was seen last.
func keySeen(c identity.Contact, keyType, value string) int64 {
	var last int64
	for _, k := range c.Keys {
		if k.Type == keyType && strings.EqualFold(k.Value, value) {
			last = max(last, k.LastSeen)
		}
	}
	return last
}
