package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/wapipe/wapipe/identity"
	"github.com/wapipe/wapipe/sinks/clickhouse"
)

// lookupClickHouse finds a contact through contact_keys (every identifier ever seen), follows
// merges to today's contact, and reads its identity and keys.
func lookupClickHouse(ctx context.Context, ch *clickhouse.Client, tenant, keyType, value string) (*identity.Contact, error) {
	db := ch.Database()
	// A BSUID lookup also finds a parent BSUID. (18.16 rejects an array bound into IN.)
	other := keyType
	if keyType == identity.KeyBSUID {
		other = identity.KeyParentBSUID
	}
	q := fmt.Sprintf(`SELECT tenant_id, contact_id FROM %s.contact_keys FINAL
		WHERE (key_type = ? OR key_type = ?) AND lower(key_value) = lower(?) AND (? = '' OR tenant_id = ?)
		ORDER BY last_seen DESC LIMIT 1`, db)
	var t, id string
	rows, err := ch.Conn().Query(ctx, q, keyType, other, value, tenant, tenant)
	if err != nil {
		return nil, err
	}
	found := rows.Next()
	if found {
		err = rows.Scan(&t, &id)
	}
	rows.Close()
	if err != nil || !found {
		return nil, err
	}
	c := &identity.Contact{Tenant: t, ID: id}
	for hop := 0; hop < 16; hop++ { // merges chain; a cycle would be a bug, so bound it
		if err := readIdentity(ctx, ch, c); err != nil {
			return nil, err
		}
		if c.MergedInto == "" {
			break
		}
		c.ID = c.MergedInto
	}
	return c, readKeys(ctx, ch, c)
}

func readIdentity(ctx context.Context, ch *clickhouse.Client, c *identity.Contact) error {
	q := fmt.Sprintf(`SELECT bsuid, parent_bsuid, phone, username, profile_name, country, phone_source,
		first_seen, last_seen, merged_into FROM %s.identities FINAL WHERE tenant_id = ? AND contact_id = ?`, ch.Database())
	var bsuid, parent, phone, username, profile *string
	var first, last time.Time
	err := ch.Conn().QueryRow(ctx, q, c.Tenant, c.ID).Scan(&bsuid, &parent, &phone, &username, &profile,
		&c.Country, &c.PhoneSource, &first, &last, &c.MergedInto)
	if err != nil {
		return fmt.Errorf("identity of %s: %w", c.ID, err)
	}
	c.BSUID, c.ParentBSUID, c.Phone, c.Username, c.ProfileName = deref(bsuid), deref(parent), deref(phone), deref(username), deref(profile)
	c.FirstSeen, c.LastSeen = first.Unix(), last.Unix()
	return nil
}

func readKeys(ctx context.Context, ch *clickhouse.Client, c *identity.Contact) error {
	q := fmt.Sprintf(`SELECT key_type, key_value, first_seen, last_seen FROM %s.contact_keys FINAL
		WHERE tenant_id = ? AND contact_id = ? ORDER BY key_type, first_seen`, ch.Database())
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
