-- stg_safety_incidents
-- relation: 安全生产事故（现行版本的每一行） · staging: one row per safety incident of the current versions
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
        source._county as county,
        current_versions.period,
        current_versions.period_start,
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
