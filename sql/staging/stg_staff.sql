-- stg_staff
-- relation: 执法人员名录（每个现行名录快照的每人一行） · staging: one row per person of each current roster snapshot
-- Grain: one row per person of each current staff roster snapshot (执法人员名录). Several
-- snapshots coexist (one per snapshot date); the mart `staff` picks the latest of each year.
-- columns:
--   snapshot_date  名录日期（只写年份的为该年 1 月 1 日） · the snapshot's date (a year alone: 1 January)
with source as (
    select * from raw.staff
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
        -- dates: a snapshot named by a year alone is dated 1 January of that year
        current_versions.period_start as snapshot_date,
        source.cert_valid_until,
        -- ids
        source.cert_no,
        -- categories
        source.role,
        -- flags
        source.bar_qualified,
        -- person (masked name and its keyed hash)
        source.name,
        source.name_key
    from source
    inner join current_versions on source._version_id = current_versions.version_id
)

select * from renamed
