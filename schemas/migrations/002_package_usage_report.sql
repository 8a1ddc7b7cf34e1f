-- One row per outbound message that carried pricing; pricing arrives on several statuses but counts once.
CREATE TABLE IF NOT EXISTS {database}.package_usage_report
(
    tenant_id           String,
    waba_id             String,
    phone_number_id     String,
    message_id          String,
    billed_at           DateTime('UTC'),
    pricing_model       String,
    pricing_type        String,
    pricing_category    String,
    billable            Nullable(UInt8),
    conversation_id     Nullable(String),
    conversation_origin Nullable(String),
    ad_source_id        Nullable(String),
    contact_id          String,
    bsuid               String,
    username            String,
    phone               Nullable(String),
    phone_source        String,
    profile_name        String,
    version             UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant_id, message_id)
