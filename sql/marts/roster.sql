-- roster
-- Grain: one row per person on the latest staff roster snapshot of each year (per scope).
-- A roster dated 2024-12-31 wins over one dated 2024-06-30 or named by the year alone.
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
