-- One row per message (message_id = wamid), inbound or outbound, showing its latest status.
-- {database} is replaced by the migration runner, so one file serves every deployment's database.
--
-- No PARTITION BY, on purpose: ReplacingMergeTree collapses versions of a key only inside one partition, and an
-- outbound message's sent_at moves (earliest status until `sent` arrives), so a month partition on it could keep
-- two rows of one message after FINAL. The same holds for every time column of the other tables.
CREATE TABLE IF NOT EXISTS {database}.chat_report
(
    tenant_id       String,
    waba_id         String,
    phone_number_id String,
    message_id      String,
    direction       String,
    message_type    String,
    status          String,
    sent_at         DateTime('UTC'),
    status_at       DateTime('UTC'),
    error_code      Nullable(Int32),
    ad_source_id    Nullable(String),
    ctwa_clid       Nullable(String),
    contact_id      String,
    bsuid           String,
    username        String,
    phone           Nullable(String),
    phone_source    String,
    profile_name    String,
    version         UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant_id, message_id)
