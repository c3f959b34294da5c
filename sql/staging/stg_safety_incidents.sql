-- stg_safety_incidents
-- Grain: one row per safety incident (安全生产事故) row of the current version of each monthly
-- file. Most months are zero reports and contribute no row.
with source as (
    select * from raw.safety_incidents
),

renamed as (
    select
        -- lineage
        current_versions.version_id,
        current_versions.path,
        source._sheet as sheet,
        source._row as "row",
        current_versions.scope,
        current_versions.period,
        -- dates
        source.occurred_on,
        -- categories
        source.severity,
        -- counts
        source.deaths,
        source.injuries,
        -- text
        source.venue_name,
        source.description
    from source
    inner join current_versions on source._version_id = current_versions.version_id
)

select * from renamed
