-- indicator_years
-- Grain: one row per year that has data: a ledger row dated in it, or a staff roster snapshot.
with facts as (
    select * from indicator_facts
),

roster_rows as (
    select * from roster
),

years as (
    select distinct year from facts
    union
    select distinct year from roster_rows
)

select * from years
