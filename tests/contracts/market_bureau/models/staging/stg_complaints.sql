-- stg_complaints
-- Grain: one row per complaint, keyed by its number: the row of the latest register wins.
-- The current version of each file is tally's one rule, the view current_versions.
with source as (
    select * from raw.complaints
),

renamed as (
    select
        current_versions.version_id,
        current_versions.path,
        source._sheet as sheet,
        source._row as "row",
        current_versions.scope,
        current_versions.period_start as register_period_start,
        trim(source.complaint_no) as complaint_no,
        source.received_on,
        source.closed_on,
        source.recovered_yuan
    from source
    inner join current_versions on source._version_id = current_versions.version_id
)

select * from renamed
qualify row_number() over (
    partition by complaint_no order by register_period_start desc, version_id desc, "row" desc
) = 1
