package model

// RowKey is a row's logical key within its table: the table's ORDER BY of
// ReplacingMergeTree (schemas/migrations), with the tenant first and unused parts empty.
// Two rows of one table with the same key are two versions of one row: FINAL reads the
// one with the higher version, and of equal versions the one inserted last.
type RowKey struct{ Tenant, A, B string }

func (r *ChatRow) Key() RowKey              { return RowKey{r.Tenant, r.MessageID, ""} }
func (r *UsageRow) Key() RowKey             { return RowKey{r.Tenant, r.MessageID, ""} }
func (r *VoiceRow) Key() RowKey             { return RowKey{r.Tenant, r.CallID, ""} }
func (r *LeadRow) Key() RowKey              { return RowKey{r.Tenant, r.Who.ContactID, r.AdSourceID} }
func (r *IdentityRow) Key() RowKey          { return RowKey{r.Tenant, r.ContactID, ""} }
func (r *ContactKeyRow) Key() RowKey        { return RowKey{r.Tenant, r.KeyType, r.KeyValue} }
func (r *ChatRow) RowVersion() uint64       { return r.Version }
func (r *UsageRow) RowVersion() uint64      { return r.Version }
func (r *VoiceRow) RowVersion() uint64      { return r.Version }
func (r *LeadRow) RowVersion() uint64       { return r.Version }
func (r *IdentityRow) RowVersion() uint64   { return r.Version }
func (r *ContactKeyRow) RowVersion() uint64 { return r.Version }
