-- Every identifier ever seen (bsuid, parent_bsuid, phone, username) and the contact it resolves to today,
-- so history keyed by an old phone or BSUID still finds the contact. Ordered for lookups by key.
CREATE TABLE IF NOT EXISTS {database}.contact_keys
(
    tenant_id  String,
    key_type   String,
    key_value  String,
    contact_id String,
    first_seen DateTime('UTC'),
    last_seen  DateTime('UTC'),
    version    UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant_id, key_type, key_value)
