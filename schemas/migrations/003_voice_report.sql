-- One row per call (call_id = wacid) with its latest status; event_at moves with every event, so no partition.
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
    version          UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant_id, call_id)
