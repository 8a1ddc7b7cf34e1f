package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// lookupRecipient is `wapipe lookup --recipient`: the answer of GET /v1/recipient, from a
// worker or made from ClickHouse, printed as JSON on stdout whatever it is; the exit status
// is recipientExit's (0 found, 1 unknown key, 2 several tenants or no lookup, 3 no phone),
// with the reason on stderr.
func lookupRecipient(ctx context.Context, c common, worker, tenant, keyType, value, purpose string) error {
	var status int
	var body []byte
	if worker != "" {
		var err error
		if status, body, err = recipientFromWorker(ctx, workerAPI{worker, c.apiToken, c.apiTokenFile}, tenant, keyType, value, purpose); err != nil {
			return lookupFailed(err)
		}
	} else {
		found, others, err := lookupClickHouseAddr(ctx, c, tenant, keyType, value)
		if err != nil {
			return lookupFailed(err)
		}
		var cs []contactJSON
		if found != nil {
			cs = append(cs, toJSON(found))
			for _, t := range others {
				cs = append(cs, contactJSON{TenantID: t}) // only the tenant counts: the answer is a 409
			}
		}
		var answer recipientJSON
		status, answer = recipientAnswer(cs, tenant, keyType, value, purpose)
		if body, err = json.MarshalIndent(answer, "", "  "); err != nil {
			return lookupFailed(err)
		}
		body = append(body, '\n')
	}
	_, _ = os.Stdout.Write(body)
	code := recipientExit(status)
	if code == 0 {
		return nil
	}
	var answer recipientJSON
	reason := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &answer) == nil && answer.Reason != "" {
		reason = answer.Reason
	}
	return exitError{code: code, err: fmt.Errorf("%s", reason)}
}

// recipientFromWorker asks a worker's GET /v1/recipient and returns its status and body
// (re-indented, as the ClickHouse answer is printed, when it is JSON).
func recipientFromWorker(ctx context.Context, base workerAPI, tenant, keyType, value, purpose string) (int, []byte, error) {
	q := url.Values{keyType: {value}, "purpose": {purpose}}
	if tenant != "" {
		q.Set("tenant", tenant)
	}
	status, b, err := askWorker(ctx, base, "/v1/recipient", q)
	if err != nil {
		return 0, nil, err
	}
	var answer recipientJSON
	if json.Unmarshal(b, &answer) != nil {
		return 0, nil, fmt.Errorf("worker answered %d %s: %s", status, http.StatusText(status), strings.TrimSpace(string(b)))
	}
	if b, err = json.MarshalIndent(answer, "", "  "); err != nil {
		return 0, nil, err
	}
	return status, append(b, '\n'), nil
}
