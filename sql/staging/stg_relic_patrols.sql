-- stg_relic_patrols
-- relation: 不可移动文物巡查（现行版本的每一行） · staging: one row per relic patrol of the current versions
-- Grain: one row per patrol (不可移动文物巡查) row of the current version of each monthly file.
with source as (
    select * from raw.relic_patrols
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
        source.patrol_date,
        -- categories
        source.protection_level,
        -- counts
        source.inspectors,
        -- text
        source.site_name,
        source.issues_found,
        source.action_taken,
        -- people
        source.patrollers,
        source.patrollers_keys
    from source
    inner join current_versions on source._version_id = current_versions.version_id
)

select * from renamed
