-- One row per contact, merged ones included (merged_into names the survivor, '' otherwise).
CREATE TABLE IF NOT EXISTS {database}.identities
(
    tenant_id    String,
    contact_id   String,
    bsuid        Nullable(String),
    parent_bsuid Nullable(String),
    phone        Nullable(String),
    username     Nullable(String),
    profile_name Nullable(String),
    country      String,
    phone_source String,
    first_seen   DateTime('UTC'),
    last_seen    DateTime('UTC'),
    merged_into  String,
    version      UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant_id, contact_id)
