package identity

import "github.com/wapipe/wapipe/model"

// Collapse keeps, of the identities and contact_keys rows in rows, only the newest
// version of each row key, at the place where the key first appeared; other rows pass
// through. ReplacingMergeTree keeps only the newest version anyway, so collapsing the
// rows of one flush first loses nothing and lets a contact that saw many events in the
// flush cost one row per table instead of one per event.
func Collapse(rows []model.Row) []model.Row {
	type key struct{ table, tenant, a, b string }
	at := make(map[key]int, len(rows))
	out := rows[:0:0]
	for _, r := range rows {
		var k key
		var v uint64
		switch r := r.(type) {
		case *model.IdentityRow:
			k, v = key{r.Table(), r.Tenant, r.ContactID, ""}, r.Version
		case *model.ContactKeyRow:
			k, v = key{r.Table(), r.Tenant, r.KeyType, r.KeyValue}, r.Version
		default:
			out = append(out, r)
			continue
		}
		if i, ok := at[k]; !ok {
			at[k] = len(out)
			out = append(out, r)
		} else if v > version(out[i]) {
			out[i] = r
		}
	}
	return out
}

func version(r model.Row) uint64 {
	switch r := r.(type) {
	case *model.IdentityRow:
		return r.Version
	case *model.ContactKeyRow:
		return r.Version
	}
	return 0
}
