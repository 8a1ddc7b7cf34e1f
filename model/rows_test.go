package model

import (
	"reflect"
	"slices"
	"testing"
)

// A Nullable column gets NULL for an unknown value, never ”, whichever way the row builder
// left it (nil, or a pointer to ""); a known value goes as it is.
func TestValuesWriteNullForUnknownInNullableColumns(t *testing.T) {
	empty := func() *string { s := ""; return &s }
	known := "573015550199"
	rows := []Row{
		&ChatRow{AdSourceID: empty(), CtwaClid: empty(), Who: Who{Phone: empty()}},
		&UsageRow{ConversationID: empty(), ConversationOrigin: empty(), AdSourceID: empty(), Who: Who{Phone: empty()}},
		&VoiceRow{Who: Who{Phone: empty()}},
		&LeadRow{Who: Who{Phone: empty()}},
		&IdentityRow{BSUID: empty(), ParentBSUID: empty(), Phone: empty(), Username: empty(), Profile: empty()},
	}
	for _, r := range rows {
		for i, v := range r.Values() {
			if p, ok := v.(*string); ok && p != nil && *p == "" && nullable(r.Table(), Columns(r.Table())[i]) {
				t.Errorf("%s.%s: '' for an unknown value, want NULL", r.Table(), Columns(r.Table())[i])
			}
		}
	}
	r := &ChatRow{Who: Who{Phone: &known}}
	if got := r.Values()[slices.Index(ChatColumns, "phone")]; !reflect.DeepEqual(got, &known) {
		t.Errorf("a known phone is written as %v", got)
	}
}

// nullable lists the Nullable(String) columns of schemas/migrations.
func nullable(table, col string) bool {
	switch col {
	case "phone", "ad_source_id", "ctwa_clid", "conversation_id", "conversation_origin":
		return table != "leads" || col == "phone"
	case "bsuid", "parent_bsuid", "username", "profile_name":
		return table == "identities"
	}
	return false
}
