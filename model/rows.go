package model

// Row is one row for one ClickHouse table. Values are in the order of the table's
// column list, so a sink can append them without reflection. Values are pointers into the
// row wherever the column takes one (boxing a pointer allocates nothing, boxing a string or
// an int64 does): *string for String, *int64 Unix seconds for DateTime (nil: NULL), *uint32
// and *uint64 for counts and versions. They stay valid while the row does.
type Row interface {
	Table() string
	Values() []any
	Key() RowKey        // the logical key within the table (key.go)
	RowVersion() uint64 // the version column: of two rows with one key, FINAL keeps the higher
}

// Unknown values (docs/queries.md, "Unknown values"): a Nullable column holds NULL when the
// value is unknown, never the empty string; a String column holds the empty string. Values enforces the first half with
// null, so a row builder that leaves a *string pointing at "" still writes NULL.
func null(s *string) *string {
	if s != nil && *s == "" {
		return nil
	}
	return s
}

// Who is the resolved identity every report row carries (contract section 3):
// the identity as resolved at processing time.
type Who struct {
	ContactID   string
	BSUID       string
	Username    string
	Phone       *string // nil when unknown
	PhoneSource string  // webhook, identity or ''
	ProfileName string
}

// WhoColumns are the identity columns, in the order Who.values writes them.
var WhoColumns = []string{"contact_id", "bsuid", "username", "phone", "phone_source", "profile_name"}

// appendValues appends the Who columns to v. Rows build their values into one slice of the
// table's exact width: the sink calls Values once per row, millions of times a run, and a
// second slice for Who plus the regrowth of the first were a fifth of its allocations.
func (w *Who) appendValues(v []any) []any {
	return append(v, &w.ContactID, &w.BSUID, &w.Username, null(w.Phone), &w.PhoneSource, &w.ProfileName)
}

// ChatRow is one message in either direction, with its latest status.
type ChatRow struct {
	Tenant, WABA, PhoneNumberID, MessageID string
	Direction                              string // inbound or outbound
	MessageType                            string
	Status                                 string
	SentAt, StatusAt                       int64
	ErrorCode                              *int32
	AdSourceID, CtwaClid                   *string
	Who                                    Who
	FirstEventAt                           int64 // see FirstEventColumn
	Version                                uint64
}

// FirstEventColumn is the event time of the first webhook of a message or call the worker saw. Unlike
// every other time of a report row it is the same in every version of the row (the worker keeps it with
// the message's or call's state), so the report tables are partitioned by its month: ReplacingMergeTree's
// merges fold the versions of a key only within one partition, and a time that moves (sent_at, billed_at,
// event_at) could put two versions of one message in two months, where they stay two rows on disk for
// good, FINAL must merge across partitions to hide them (18.16 does; do_not_merge_across_partitions_select_final
// does not), and pruning the newer month brings the older version back.
const FirstEventColumn = "first_event_at"

var ChatColumns = append([]string{"tenant_id", "waba_id", "phone_number_id", "message_id", "direction",
	"message_type", "status", "sent_at", "status_at", "error_code", "ad_source_id", "ctwa_clid"},
	append(WhoColumns, FirstEventColumn, "version")...)

func (r *ChatRow) Table() string { return "chat_report" }
func (r *ChatRow) Values() []any {
	v := append(make([]any, 0, len(ChatColumns)), &r.Tenant, &r.WABA, &r.PhoneNumberID, &r.MessageID, &r.Direction,
		&r.MessageType, &r.Status, &r.SentAt, &r.StatusAt, r.ErrorCode, null(r.AdSourceID), null(r.CtwaClid))
	return append(r.Who.appendValues(v), &r.FirstEventAt, &r.Version)
}

// UsageRow is one outbound message that carried pricing.
type UsageRow struct {
	Tenant, WABA, PhoneNumberID, MessageID string
	BilledAt                               int64
	PricingModel, PricingType, Category    string
	Billable                               *uint8
	ConversationID, ConversationOrigin     *string
	AdSourceID                             *string
	Who                                    Who
	FirstEventAt                           int64 // the message's, as in its ChatRow
	Version                                uint64
}

var UsageColumns = append([]string{"tenant_id", "waba_id", "phone_number_id", "message_id", "billed_at",
	"pricing_model", "pricing_type", "pricing_category", "billable", "conversation_id", "conversation_origin",
	"ad_source_id"}, append(WhoColumns, FirstEventColumn, "version")...)

func (r *UsageRow) Table() string { return "package_usage_report" }
func (r *UsageRow) Values() []any {
	v := append(make([]any, 0, len(UsageColumns)), &r.Tenant, &r.WABA, &r.PhoneNumberID, &r.MessageID, &r.BilledAt,
		&r.PricingModel, &r.PricingType, &r.Category, r.Billable, null(r.ConversationID), null(r.ConversationOrigin), null(r.AdSourceID))
	return append(r.Who.appendValues(v), &r.FirstEventAt, &r.Version)
}

// VoiceRow is one call with its latest status.
type VoiceRow struct {
	Tenant, WABA, PhoneNumberID, CallID string
	Direction, Status                   string
	StartedAt, EndedAt                  *int64
	DurationSeconds                     uint32
	EventAt                             int64
	Who                                 Who
	FirstEventAt                        int64 // see FirstEventColumn
	Version                             uint64
}

var VoiceColumns = append([]string{"tenant_id", "waba_id", "phone_number_id", "call_id", "direction", "status",
	"started_at", "ended_at", "duration_seconds", "event_at"}, append(WhoColumns, FirstEventColumn, "version")...)

func (r *VoiceRow) Table() string { return "voice_report" }
func (r *VoiceRow) Values() []any {
	v := append(make([]any, 0, len(VoiceColumns)), &r.Tenant, &r.WABA, &r.PhoneNumberID, &r.CallID, &r.Direction,
		&r.Status, r.StartedAt, r.EndedAt, &r.DurationSeconds, &r.EventAt)
	return append(r.Who.appendValues(v), &r.FirstEventAt, &r.Version)
}

// LeadRow is one (tenant, contact, ad) lead.
type LeadRow struct {
	Tenant, ContactID, AdSourceID              string
	SourceType, SourceURL, Headline, MediaType string
	CtwaClid                                   string
	FirstMessageID                             string
	FirstTouchAt, LastTouchAt                  int64
	Touches                                    uint32
	PhoneNumberID                              string
	Who                                        Who
	Version                                    uint64
}

// LeadColumns name contact_id once: the lead's contact is the resolved contact.
var LeadColumns = append([]string{"tenant_id", "contact_id", "ad_source_id", "source_type", "source_url",
	"headline", "media_type", "ctwa_clid", "first_message_id", "first_touch_at", "last_touch_at", "touches",
	"phone_number_id"}, append(WhoColumns[1:], "version")...)

func (r *LeadRow) Table() string { return "leads" }
func (r *LeadRow) Values() []any {
	v := append(make([]any, 0, len(LeadColumns)), &r.Tenant, &r.Who.ContactID, &r.AdSourceID, &r.SourceType,
		&r.SourceURL, &r.Headline, &r.MediaType, &r.CtwaClid, &r.FirstMessageID, &r.FirstTouchAt, &r.LastTouchAt,
		&r.Touches, &r.PhoneNumberID)
	w := &r.Who
	return append(append(v, &w.BSUID, &w.Username, null(w.Phone), &w.PhoneSource, &w.ProfileName), &r.Version) // contact_id is second
}

// IdentityRow is one contact as the identity store knows it now.
type IdentityRow struct {
	Tenant, ContactID                            string
	BSUID, ParentBSUID, Phone, Username, Profile *string
	Country                                      string
	PhoneSource                                  string
	FirstSeen, LastSeen                          int64
	MergedInto                                   string
	Version                                      uint64
}

var IdentityColumns = []string{"tenant_id", "contact_id", "bsuid", "parent_bsuid", "phone", "username",
	"profile_name", "country", "phone_source", "first_seen", "last_seen", "merged_into", "version"}

func (r *IdentityRow) Table() string { return "identities" }
func (r *IdentityRow) Values() []any {
	return []any{&r.Tenant, &r.ContactID, null(r.BSUID), null(r.ParentBSUID), null(r.Phone), null(r.Username), null(r.Profile), &r.Country,
		&r.PhoneSource, &r.FirstSeen, &r.LastSeen, &r.MergedInto, &r.Version}
}

// ContactKeyRow maps one identifier ever seen to its contact.
type ContactKeyRow struct {
	Tenant, KeyType, KeyValue, ContactID string
	FirstSeen, LastSeen                  int64
	Version                              uint64
}

var ContactKeyColumns = []string{"tenant_id", "key_type", "key_value", "contact_id", "first_seen", "last_seen", "version"}

func (r *ContactKeyRow) Table() string { return "contact_keys" }
func (r *ContactKeyRow) Values() []any {
	return []any{&r.Tenant, &r.KeyType, &r.KeyValue, &r.ContactID, &r.FirstSeen, &r.LastSeen, &r.Version}
}

// Columns returns the column list of a table, in Values order.
func Columns(table string) []string {
	switch table {
	case "chat_report":
		return ChatColumns
	case "package_usage_report":
		return UsageColumns
	case "voice_report":
		return VoiceColumns
	case "leads":
		return LeadColumns
	case "identities":
		return IdentityColumns
	case "contact_keys":
		return ContactKeyColumns
	}
	return nil
}

// Tables lists every table the sinks write, in the order a flush writes them.
var Tables = []string{"identities", "contact_keys", "leads", "chat_report", "package_usage_report", "voice_report"}
