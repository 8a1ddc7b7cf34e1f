-- One row per (tenant, contact, ad). first_touch_at moves when contacts merge (earliest touch wins).
CREATE TABLE IF NOT EXISTS {database}.leads
(
    tenant_id        String,
    contact_id       String,
    ad_source_id     String,
    source_type      String,
    source_url       String,
    headline         String,
    media_type       String,
    ctwa_clid        String,
    first_message_id String,
    first_touch_at   DateTime('UTC'),
    last_touch_at    DateTime('UTC'),
    touches          UInt32,
    phone_number_id  String,
    bsuid            String,
    username         String,
    phone            Nullable(String),
    phone_source     String,
    profile_name     String,
    version          UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant_id, contact_id, ad_source_id)
