-- Views that resolve every report row to today's contact, for analysts (docs/queries.md).
--
-- A report row carries the identity as resolved when it was processed. Since then the contact may have been
-- merged into another one (a phone and a BSUID first seen apart, then together), and its BSUID, phone or
-- username may have changed. These views put today's contact next to every row: current_contact_id (the
-- surviving contact), current_bsuid, current_phone, current_username and friends, read from identities.
--
-- contacts_current maps every contact id ever written, merged or not, to its survivor by following
-- identities.merged_into for up to four hops (a merge of a merge of a merge of a merge); a longer chain would
-- stop at the fourth contact. Each hop is one ANY LEFT JOIN ... USING, which ClickHouse 18.16 allows one per
-- SELECT, hence the nesting. Every table is read with FINAL, so the views show each key's latest row.
-- Column aliases never reuse a column name (18.16 lets a SELECT alias shadow a column in WHERE).
--
-- Rows without a contact (contact_id '') keep current_contact_id '' and NULL current_* columns.

CREATE VIEW IF NOT EXISTS {database}.contacts_current AS
SELECT
    tenant_id,
    contact_id,
    current_contact_id,
    contact_id != current_contact_id AS merged,
    current_bsuid,
    current_parent_bsuid,
    current_phone,
    current_phone_source,
    current_username,
    current_profile_name,
    current_country,
    current_first_seen,
    current_last_seen
FROM
(
    SELECT
        tenant_id,
        contact_id,
        multiIf(hop4 != '', hop4, hop3 != '', hop3, hop2 != '', hop2, hop1 != '', hop1, contact_id) AS current_contact_id
    FROM
    (
        SELECT tenant_id, contact_id, hop1, hop2, hop3, hop4
        FROM
        (
            SELECT tenant_id, contact_id, hop1, hop2, hop3
            FROM
            (
                SELECT tenant_id, contact_id, hop1, hop2
                FROM
                (
                    SELECT tenant_id, contact_id, merged_into AS hop1 FROM {database}.identities FINAL
                )
                ANY LEFT JOIN
                (
                    SELECT tenant_id, contact_id AS hop1, merged_into AS hop2 FROM {database}.identities FINAL
                ) USING (tenant_id, hop1)
            )
            ANY LEFT JOIN
            (
                SELECT tenant_id, contact_id AS hop2, merged_into AS hop3 FROM {database}.identities FINAL
            ) USING (tenant_id, hop2)
        )
        ANY LEFT JOIN
        (
            SELECT tenant_id, contact_id AS hop3, merged_into AS hop4 FROM {database}.identities FINAL
        ) USING (tenant_id, hop3)
    )
)
ANY LEFT JOIN
(
    SELECT
        tenant_id,
        contact_id   AS current_contact_id,
        bsuid        AS current_bsuid,
        parent_bsuid AS current_parent_bsuid,
        phone        AS current_phone,
        phone_source AS current_phone_source,
        username     AS current_username,
        profile_name AS current_profile_name,
        country      AS current_country,
        first_seen   AS current_first_seen,
        last_seen    AS current_last_seen
    FROM {database}.identities FINAL
) USING (tenant_id, current_contact_id);

-- chat_report FINAL, every row with today's contact.
CREATE VIEW IF NOT EXISTS {database}.chat_report_current AS
SELECT
    tenant_id, waba_id, phone_number_id, message_id, direction, message_type, status, sent_at, status_at,
    error_code, ad_source_id, ctwa_clid, contact_id, bsuid, username, phone, phone_source, profile_name,
    current_contact_id, current_bsuid, current_phone, current_username, current_profile_name
FROM
(
    SELECT
        tenant_id, waba_id, phone_number_id, message_id, direction, message_type, status, sent_at, status_at,
        error_code, ad_source_id, ctwa_clid, contact_id, bsuid, username, phone, phone_source, profile_name
    FROM {database}.chat_report FINAL
)
ANY LEFT JOIN
(
    SELECT tenant_id, contact_id, current_contact_id, current_bsuid, current_phone, current_username,
        current_profile_name
    FROM {database}.contacts_current
) USING (tenant_id, contact_id);

-- package_usage_report FINAL, every row with today's contact.
CREATE VIEW IF NOT EXISTS {database}.package_usage_report_current AS
SELECT
    tenant_id, waba_id, phone_number_id, message_id, billed_at, pricing_model, pricing_type, pricing_category,
    billable, conversation_id, conversation_origin, ad_source_id, contact_id, bsuid, username, phone,
    phone_source, profile_name,
    current_contact_id, current_bsuid, current_phone, current_username, current_profile_name
FROM
(
    SELECT
        tenant_id, waba_id, phone_number_id, message_id, billed_at, pricing_model, pricing_type,
        pricing_category, billable, conversation_id, conversation_origin, ad_source_id, contact_id, bsuid,
        username, phone, phone_source, profile_name
    FROM {database}.package_usage_report FINAL
)
ANY LEFT JOIN
(
    SELECT tenant_id, contact_id, current_contact_id, current_bsuid, current_phone, current_username,
        current_profile_name
    FROM {database}.contacts_current
) USING (tenant_id, contact_id);

-- voice_report FINAL, every row with today's contact.
CREATE VIEW IF NOT EXISTS {database}.voice_report_current AS
SELECT
    tenant_id, waba_id, phone_number_id, call_id, direction, status, started_at, ended_at, duration_seconds,
    event_at, contact_id, bsuid, username, phone, phone_source, profile_name,
    current_contact_id, current_bsuid, current_phone, current_username, current_profile_name
FROM
(
    SELECT
        tenant_id, waba_id, phone_number_id, call_id, direction, status, started_at, ended_at,
        duration_seconds, event_at, contact_id, bsuid, username, phone, phone_source, profile_name
    FROM {database}.voice_report FINAL
)
ANY LEFT JOIN
(
    SELECT tenant_id, contact_id, current_contact_id, current_bsuid, current_phone, current_username,
        current_profile_name
    FROM {database}.contacts_current
) USING (tenant_id, contact_id);

-- leads FINAL that are live (touches > 0), with today's contact. A lead of a contact that was merged away is
-- re-emitted with touches 0 and counted in the survivor's lead (stages/report), so it is left out here: every
-- row is one lead, and sum(touches) counts every touch once.
CREATE VIEW IF NOT EXISTS {database}.leads_current AS
SELECT
    tenant_id, contact_id, ad_source_id, source_type, source_url, headline, media_type, ctwa_clid,
    first_message_id, first_touch_at, last_touch_at, touches, phone_number_id, bsuid, username, phone,
    phone_source, profile_name,
    current_contact_id, current_bsuid, current_phone, current_username, current_profile_name
FROM
(
    SELECT
        tenant_id, contact_id, ad_source_id, source_type, source_url, headline, media_type, ctwa_clid,
        first_message_id, first_touch_at, last_touch_at, touches, phone_number_id, bsuid, username, phone,
        phone_source, profile_name
    FROM {database}.leads FINAL
    WHERE touches > 0
)
ANY LEFT JOIN
(
    SELECT tenant_id, contact_id, current_contact_id, current_bsuid, current_phone, current_username,
        current_profile_name
    FROM {database}.contacts_current
) USING (tenant_id, contact_id);
