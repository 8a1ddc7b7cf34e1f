-- The report tables, partitioned by month of first_event_at (contract 11), so that old months can be dropped
-- whole (wapipe prune) and a table TTL can expire them (migrate --retention, where the server has TTL).
--
-- first_event_at is the event time of the first webhook of the message or call that the worker saw, and every
-- version of a row carries the same value (model.FirstEventColumn): ReplacingMergeTree's merges fold the versions
-- of a key only inside one partition, so partitioning by a time that moves (sent_at, billed_at, event_at) could
-- keep two rows of one message for good, which FINAL hides only by merging across partitions and prune would
-- turn back into the older version. Rows written before the column existed take their sent_at, billed_at or
-- event_at (the DEFAULT), as do rows an older worker still writes during a rolling upgrade.
--
-- A swap migration (the name says so): each statement is a table that replaces the existing one of the same
-- name. The runner (sinks/clickhouse/swap.go) creates it under <table>__next, copies every row (FINAL) into it,
-- renames the two in one RENAME, copies again what was written meanwhile, checks that no key is missing and
-- drops the old table. It is idempotent, and a run that died half way resumes.
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
    first_event_at  DateTime('UTC') DEFAULT sent_at,
    version         UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(first_event_at)
ORDER BY (tenant_id, message_id);

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
    first_event_at      DateTime('UTC') DEFAULT billed_at,
    version             UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(first_event_at)
ORDER BY (tenant_id, message_id);

CREATE TABLE IF NOT EXISTS {database}.voice_report
(
    tenant_id        String,
    waba_id          String,
    phone_number_id  String,
    call_id          String,
    direction        String,
    status           String,
    started_at       Nullable(DateTime('UTC')),
    ended_at         Nullable(DateTime('UTC')),
    duration_seconds UInt32,
    event_at         DateTime('UTC'),
    contact_id       String,
    bsuid            String,
    username         String,
    phone            Nullable(String),
    phone_source     String,
    profile_name     String,
    first_event_at   DateTime('UTC') DEFAULT event_at,
    version          UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(first_event_at)
ORDER BY (tenant_id, call_id)
