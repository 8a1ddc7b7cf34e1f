package main

import (
	"cmp"
	"slices"
	"time"

	"github.com/wapipe/wapipe/identity"
)

// contactJSON is a contact as `wapipe lookup --json` and GET /v1/contacts show it: the column
// names of identities and contact_keys, times in RFC 3339 (UTC) as the text output prints them.
type contactJSON struct {
	TenantID    string    `json:"tenant_id"`
	ContactID   string    `json:"contact_id"`
	BSUID       string    `json:"bsuid"`
	ParentBSUID string    `json:"parent_bsuid"`
	Phone       string    `json:"phone"`
	Username    string    `json:"username"`
	ProfileName string    `json:"profile_name"`
	PhoneSource string    `json:"phone_source"`
	Country     string    `json:"country"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	MergedInto  string    `json:"merged_into"`
	Keys        []keyJSON `json:"keys"`
	MergedFrom  []string  `json:"merged_from"` // contacts merged into this one (their identities rows have merged_into)
	Version     uint64    `json:"version"`
}

type keyJSON struct {
	KeyType   string    `json:"key_type"`
	KeyValue  string    `json:"key_value"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

func unixUTC(s int64) time.Time { return time.Unix(s, 0).UTC() }

func toJSON(c *identity.Contact) contactJSON {
	j := contactJSON{TenantID: c.Tenant, ContactID: c.ID, BSUID: c.BSUID, ParentBSUID: c.ParentBSUID, Phone: c.Phone,
		Username: c.Username, ProfileName: c.ProfileName, PhoneSource: c.PhoneSource, Country: c.Country,
		FirstSeen: unixUTC(c.FirstSeen), LastSeen: unixUTC(c.LastSeen), MergedInto: c.MergedInto,
		Keys: make([]keyJSON, len(c.Keys)), MergedFrom: slices.Sorted(slices.Values(c.MergedFrom)), Version: c.Version}
	if j.MergedFrom == nil {
		j.MergedFrom = []string{}
	}
	for i, k := range c.Keys {
		j.Keys[i] = keyJSON{KeyType: k.Type, KeyValue: k.Value, FirstSeen: unixUTC(k.FirstSeen), LastSeen: unixUTC(k.LastSeen)}
	}
	// One order whichever source the contact came from (ClickHouse, or a worker's store).
	slices.SortFunc(j.Keys, func(a, b keyJSON) int {
		return cmp.Or(cmp.Compare(a.KeyType, b.KeyType), a.FirstSeen.Compare(b.FirstSeen), cmp.Compare(a.KeyValue, b.KeyValue))
	})
	return j
}
