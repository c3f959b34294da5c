-- indicator_years
-- Grain: one row per year that has data.
with totals as (
    select * from indicator_totals
)

select distinct year from totals
