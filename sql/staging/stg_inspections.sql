-- stg_inspections
-- relation: 执法检查（现行版本的每一行） · staging: one row per inspection row of the current versions
-- Grain: one row per inspection (执法检查) row of the current version of each monthly file.
-- Rows of superseded versions stay in raw.inspections for the history but are left out here
-- (the view current_versions says which version is current).
with source as (
    select * from raw.inspections
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
        source.campaign,
        source.spot_check_task,
        -- dates
        source.inspection_date,
        source.disclosed_on,
        -- categories
        source.inspection_type,
        source.venue_type,
        source.result,
        -- counts
        source.inspectors,
        -- text
        source.venue_name,
        source.note,
        -- people (masked names and their keys)
        source.officers,
        source.officers_keys
    from source
    inner join current_versions on source._version_id = current_versions.version_id
)

select * from renamed
