-- staff
-- relation: 执法人员名录（每年最新名录快照的每人一行） · one row per person on the latest roster snapshot of each year
-- Grain: one row per person on the latest staff roster snapshot of each year (per scope).
-- A roster dated 2024-12-31 wins over one dated 2024-06-30 or named by the year alone.
-- columns:
--   year                   名录所属年份 · the snapshot's year
--   certified_at_year_end  年末执法证是否有效 · enforcement certificate valid on 31 December of the year
with staged_staff as (
    select * from stg_staff
),

snapshots as (
    select distinct scope, version_id, snapshot_date, year(snapshot_date) as year
    from staged_staff
),

latest_snapshots as (
    select *
    from snapshots
    qualify row_number() over (
        partition by scope, year
        order by snapshot_date desc, version_id desc
    ) = 1
),

latest_rows as (
    select
        staged_staff.*,
        latest_snapshots.year,
        coalesce(staged_staff.cert_valid_until >= make_date(latest_snapshots.year, 12, 31), false)
            as certified_at_year_end
    from staged_staff
    inner join latest_snapshots on staged_staff.version_id = latest_snapshots.version_id
)

select * from latest_rows
