-- stg_hotline
-- relation: 12345 热线工单（现行登记表，每单一行，取最新期间） · staging: one row per hotline ticket, from the latest register
-- Grain: one row per 12345 hotline ticket (工单), keyed by its ticket number.
-- The register is resubmitted every month; for each ticket the row from the register with the
-- latest period wins (then the highest version); a ticket missing from a later register is
-- kept from the earlier one.
-- columns:
--   period_start  登记表期间首日（每单取最新的一期） · first day of the register's month; each ticket keeps its row of the latest
with source as (
    select * from raw.hotline
),

renamed as (
    select
        -- lineage
        current_versions.version_id,
        current_versions.path,
        source._sheet as sheet,
        source._row as "row",
        current_versions.scope,
        source._county as county,
        current_versions.period,
        current_versions.period_start,
        -- ids
        trim(source.ticket_no) as ticket_no,
        -- dates
        source.received_on,
        source.due_on,
        source.replied_on,
        source.closed_on,
        -- categories
        source.category,
        source.satisfaction,
        -- text (may hold personal data; masked by the loader)
        source.content
    from source
    inner join current_versions on source._version_id = current_versions.version_id
),

latest_per_ticket as (
    select *
    from renamed
    qualify row_number() over (
        partition by county, ticket_no
        order by period_start desc, version_id desc, "row" desc
    ) = 1
)

select * from latest_per_ticket
