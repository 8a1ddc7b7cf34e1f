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
	"github.com/wapipe/wapipe/internal/connect"
	"github.com/wapipe/wapipe/sinks/clickhouse"
)

// keyContactID is the key type of a lookup by wapipe's contact id (not a contact_keys key).
const keyContactID = "contact_id"

func lookupCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("lookup", flag.ContinueOnError)
	var c common
	c.clickhouseFlags(fs)
	c.apiFlags(fs, "with --worker: the worker's --api-token, sent as 'Authorization: Bearer <token>'")
	keys := map[string]*string{
		"bsuid":      fs.String("bsuid", "", "find the contact of this BSUID (or parent BSUID)"),
		"username":   fs.String("username", "", "find the contact of this username (case-insensitive, with its @)"),
		"phone":      fs.String("phone", "", "find the contact of this phone (its digits: +57 301 555 0142 is 573015550142)"),
		keyContactID: fs.String("contact-id", "", "find the contact of this contact id (a merged-away one gives the contact it merged into)"),
	}
	tenant := fs.String("tenant", "", "the tenant (business portfolio); default: any")
	worker := fs.String("worker", "", "ask a running worker (its --listen URL, e.g. http://127.0.0.1:9464) instead of ClickHouse")
	asJSON := fs.Bool("json", false, "print JSON")
	recipient := fs.Bool("recipient", false, "print whom to send to (JSON, as GET /v1/recipient answers): exit 3 when the purpose needs a phone and none is known")
	purpose := fs.String("purpose", purposeMessage, "with --recipient: "+strings.Join(purposes, ", "))
	if err := parse(fs, args); err != nil {
		return lookupFailed(err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return lookupFailed(fmt.Errorf("unexpected arguments %q: give a key with its flag, e.g. --bsuid X", fs.Args()))
	}
	keyType, value, err := recipientKey(func(kt string) string { return *keys[kt] })
	switch {
	case errors.Is(err, errOneKey):
		return lookupFailed(errors.New("give one of --bsuid, --username, --phone, --contact-id"))
	case err != nil:
		return lookupFailed(fmt.Errorf("--%w", err))
	}
	if *recipient {
		if !slices.Contains(purposes, *purpose) {
			return lookupFailed(fmt.Errorf("--purpose %q: give one of %s", *purpose, strings.Join(purposes, ", ")))
		}
		return lookupRecipient(ctx, c, *worker, *tenant, keyType, value, *purpose)
	}
	contact, err := lookupContact(ctx, c, *worker, *tenant, keyType, value)
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
func lookupContact(ctx context.Context, c common, worker, tenant, keyType, value string) (*contactJSON, error) {
	var contact *contactJSON
	if worker != "" {
		var err error
		if contact, err = lookupWorker(ctx, workerAPI{worker, c.apiToken, c.apiTokenFile}, tenant, keyType, value); err != nil {
			return nil, err
		}
	} else {
		found, others, err := lookupClickHouseAddr(ctx, c, tenant, keyType, value)
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

// lookupClickHouseAddr is lookupClickHouse on a connection of its own.
func lookupClickHouseAddr(ctx context.Context, c common, tenant, keyType, value string) (*identity.Contact, []string, error) {
	cfg, err := c.clickhouseConfig(newLogger("warn"))
	if err != nil {
		return nil, nil, err
	}
	ch, err := clickhouse.Open(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	defer ch.Close()
	found, others, err := lookupClickHouse(ctx, ch, tenant, keyType, value)
	return found, others, connect.Explain("clickhouse", err)
}

func lookupWorker(ctx context.Context, base workerAPI, tenant, keyType, value string) (*contactJSON, error) {
	q := url.Values{keyType: {value}}
	if tenant != "" {
		q.Set("tenant", tenant)
	}
	status, b, err := askWorker(ctx, base, "/v1/contacts", q)
	if err != nil {
		return nil, err
	}
	if status == http.StatusNotFound {
		return nil, nil
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("worker answered %d %s: %s", status, http.StatusText(status), strings.TrimSpace(string(b)))
	}
	var c contactJSON
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("the worker's answer: %w", err)
	}
	return &c, nil
}

// askWorker GETs path?q from a worker's --listen address (given with or without http://)
// and returns the status and up to 1 MB of the body.
// workerAPI is a running worker's --listen URL and the --api-token it requires (flag or file).
type workerAPI struct{ url, token, tokenFile string }

func askWorker(ctx context.Context, api workerAPI, path string, q url.Values) (int, []byte, error) {
	base := api.url
	if !strings.Contains(base, "://") {
		base = "http://" + base // the worker's --listen address as it is given
	}
	token, err := connect.ReadSecret(api.token, api.tokenFile, "api-token")
	if err != nil {
		return 0, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+path+"?"+q.Encode(), nil)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("the worker's answer: %w", err)
	}
	return resp.StatusCode, b, nil
}

// lookupIn finds contacts in the worker's store as lookupClickHouse does in ClickHouse: a
// BSUID may also be a parent BSUID, a contact id may be a merged-away contact's, and of the
// tenants that know the key the one where it was seen last comes first (ties: the smaller
// tenant id). It returns today's contact in each tenant that knows the key.
func lookupIn(ids *identity.Store) contactFinder {
	return func(tenant, keyType, value string) ([]contactJSON, error) {
		var cs []identity.Contact
		var err error
		seen := func(c identity.Contact) int64 { return keySeen(c, keyType, value) }
		switch keyType {
		case keyContactID:
			cs, err = ids.LookupID(tenant, value)
			seen = func(c identity.Contact) int64 { return c.LastSeen }
		default:
			cs, err = ids.LookupAll(tenant, keyType, value)
			if len(cs) == 0 && err == nil && keyType == identity.KeyBSUID {
				keyType = identity.KeyParentBSUID
				cs, err = ids.LookupAll(tenant, keyType, value)
			}
		}
		if len(cs) == 0 || err != nil {
			return nil, err
		}
		slices.SortFunc(cs, func(a, b identity.Contact) int {
			return cmp.Or(cmp.Compare(seen(b), seen(a)), cmp.Compare(a.Tenant, b.Tenant))
		})
		out := make([]contactJSON, len(cs))
		for i := range cs {
			out[i] = toJSON(&cs[i])
		}
		return out, nil
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
