package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/wapipe/wapipe/identity"
	"github.com/wapipe/wapipe/sinks/clickhouse"
)

// lookupClickHouse finds a contact through contact_keys (every identifier ever seen; a contact
// id through identities), follows
// merges to today's contact, and reads its identity and keys. Without a tenant the key may
// be known in several: the contact seen last is returned, and the other tenants named.
func lookupClickHouse(ctx context.Context, ch *clickhouse.Client, tenant, keyType, value string) (*identity.Contact, []string, error) {
	db := ch.Database()
	// A BSUID lookup also finds a parent BSUID. (18.16 rejects an array bound into IN.)
	other := keyType
	if keyType == identity.KeyBSUID {
		other = identity.KeyParentBSUID
	}
	q := fmt.Sprintf(`SELECT tenant_id, contact_id FROM %s.contact_keys FINAL
		WHERE (key_type = ? OR key_type = ?) AND lower(key_value) = lower(?) AND (? = '' OR tenant_id = ?)
		ORDER BY last_seen DESC, tenant_id LIMIT 100`, db)
	args := []any{keyType, other, value, tenant, tenant}
	if keyType == keyContactID { // a contact id, maybe of a merged-away contact: merges are followed below
		q = fmt.Sprintf(`SELECT tenant_id, contact_id FROM %s.identities FINAL
			WHERE contact_id = ? AND (? = '' OR tenant_id = ?) ORDER BY last_seen DESC, tenant_id LIMIT 100`, db)
		args = []any{value, tenant, tenant}
	}
	rows, err := ch.Conn().Query(ctx, q, args...)
	if err != nil {
		return nil, nil, err
	}
	var t, id string
	var others []string
	for rows.Next() {
		var rowTenant, rowID string
		if err = rows.Scan(&rowTenant, &rowID); err != nil {
			break
		}
		switch {
		case t == "":
			t, id = rowTenant, rowID
		case rowTenant != t && !slices.Contains(others, rowTenant):
			others = append(others, rowTenant)
		}
	}
	rows.Close()
	if err != nil || t == "" {
		return nil, nil, err
	}
	c := &identity.Contact{Tenant: t, ID: id}
	for hop := 0; hop < 16; hop++ { // merges chain; a cycle would be a bug, so bound it
		if err := readIdentity(ctx, ch, c); err != nil {
			return nil, nil, err
		}
		if c.MergedInto == "" {
			break
		}
		c.ID = c.MergedInto
	}
	if err := readMergedFrom(ctx, ch, c); err != nil {
		return nil, nil, err
	}
	return c, others, readKeys(ctx, ch, c)
}

// readMergedFrom lists the contacts merged into c, directly or through a chain of merges.
func readMergedFrom(ctx context.Context, ch *clickhouse.Client, c *identity.Contact) error {
	q := fmt.Sprintf(`SELECT contact_id FROM %s.identities FINAL WHERE tenant_id = ? AND merged_into = ?`, ch.Database())
	next := []string{c.ID}
	for depth := 0; len(next) > 0 && depth < 8; depth++ { // a deeper chain would be a bug, as in the store
		var found []string
		for _, survivor := range next {
			rows, err := ch.Conn().Query(ctx, q, c.Tenant, survivor)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				found = append(found, id)
			}
			rows.Close()
		}
		c.MergedFrom, next = append(c.MergedFrom, found...), found
	}
	return nil
}

func readIdentity(ctx context.Context, ch *clickhouse.Client, c *identity.Contact) error {
	q := fmt.Sprintf(`SELECT bsuid, parent_bsuid, phone, username, profile_name, country, phone_source,
		first_seen, last_seen, merged_into, version FROM %s.identities FINAL WHERE tenant_id = ? AND contact_id = ?`, ch.Database())
	var bsuid, parent, phone, username, profile *string
	var first, last time.Time
	err := ch.Conn().QueryRow(ctx, q, c.Tenant, c.ID).Scan(&bsuid, &parent, &phone, &username, &profile,
		&c.Country, &c.PhoneSource, &first, &last, &c.MergedInto, &c.Version)
	if err != nil {
		return fmt.Errorf("identity of %s: %w", c.ID, err)
	}
	c.BSUID, c.ParentBSUID, c.Phone, c.Username, c.ProfileName = deref(bsuid), deref(parent), deref(phone), deref(username), deref(profile)
	c.FirstSeen, c.LastSeen = first.Unix(), last.Unix()
	return nil
}

func readKeys(ctx context.Context, ch *clickhouse.Client, c *identity.Contact) error {
	q := fmt.Sprintf(`SELECT key_type, key_value, first_seen, last_seen FROM %s.contact_keys FINAL
		WHERE tenant_id = ? AND contact_id = ? ORDER BY key_type, first_seen, key_value`, ch.Database())
	rows, err := ch.Conn().Query(ctx, q, c.Tenant, c.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	c.Keys = nil
	for rows.Next() {
		var k identity.Key
		var first, last time.Time
		if err := rows.Scan(&k.Type, &k.Value, &first, &last); err != nil {
			return err
		}
		k.FirstSeen, k.LastSeen = first.Unix(), last.Unix()
		c.Keys = append(c.Keys, k)
	}
	return rows.Err()
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func printContact(w io.Writer, c *contactJSON) {
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	fmt.Fprintf(w, "contact      %s (tenant %s)\n", c.ContactID, c.TenantID)
	fmt.Fprintf(w, "bsuid        %s\n", orDash(c.BSUID))
	fmt.Fprintf(w, "parent bsuid %s\n", orDash(c.ParentBSUID))
	fmt.Fprintf(w, "username     %s\n", orDash(c.Username))
	fmt.Fprintf(w, "phone        %s (source: %s)\n", orDash(c.Phone), orDash(c.PhoneSource))
	fmt.Fprintf(w, "profile name %s\n", orDash(c.ProfileName))
	fmt.Fprintf(w, "country      %s\n", orDash(c.Country))
	fmt.Fprintf(w, "seen         %s .. %s\n", ts(c.FirstSeen), ts(c.LastSeen))
	if len(c.MergedFrom) > 0 {
		fmt.Fprintf(w, "merged from  %s\n", strings.Join(c.MergedFrom, ", "))
	}
	fmt.Fprintf(w, "keys:\n")
	for _, k := range c.Keys {
		fmt.Fprintf(w, "  %-13s %-40s %s .. %s\n", k.KeyType, k.KeyValue, ts(k.FirstSeen), ts(k.LastSeen))
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
