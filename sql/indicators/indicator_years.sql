-- indicator_years
-- Grain: one row per year that has data: a ledger row dated in it, or a staff roster snapshot.
with totals as (
    select * from indicator_totals
),

roster_rows as (
    select * from roster
),

years as (
    select distinct year from totals
    union
    select distinct year from roster_rows
)

select * from years
