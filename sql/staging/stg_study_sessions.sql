-- stg_study_sessions
-- relation: 学法培训（现行版本的每一行） · staging: one row per study session of the current versions
-- Grain: one row per study or training session (学法培训) row of the current version of each
-- monthly file.
with source as (
    select * from raw.study_sessions
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
        source.held_on,
        -- categories
        source.format,
        source.topic,
        -- counts
        source.attendees,
        source.hours,
        -- text
        source.content,
        source.speaker
    from source
    inner join current_versions on source._version_id = current_versions.version_id
)

select * from renamed
