-- stg_publicity_events
-- relation: 普法宣传活动（现行版本的每一行） · staging: one row per publicity event of the current versions
-- Grain: one row per publicity event (普法宣传活动) row of the current version of each monthly
-- file.
with source as (
    select * from raw.publicity_events
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
        source.event_date,
        -- categories
        source.theme,
        source.mode,
        source.venue_kind,
        -- counts
        source.posters,
        source.leaflets,
        source.banners,
        source.reach,
        -- text
        source.title
    from source
    inner join current_versions on source._version_id = current_versions.version_id
)

select * from renamed
