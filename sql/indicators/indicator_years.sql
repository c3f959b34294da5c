-- indicator_years
-- relation: 有数据的年份 · one row per year that has data
-- Grain: one row per year that has data: a ledger row dated in it, or a staff roster snapshot.
-- columns:
--   year  年份 · a year with a dated ledger row or a roster snapshot
with totals as (
    select * from indicator_totals
),

roster_rows as (
    select * from staff
),

years as (
    select distinct year from totals
    union
    select distinct year from roster_rows
)

select * from years
