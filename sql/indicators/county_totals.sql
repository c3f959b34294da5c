-- county_totals
-- relation: 各县区年度指标合计（每个县区、年、指标一行，除法之前） · per (county, year, indicator): the county's counts and sums before any division
-- Grain: one row per (county, year, indicator code) that has rows: what `org_indicators` adds
-- up for every org unit, and what a sign-off pins for a county. A county whose rows carry no
-- county (a folder that names none) is kept with county NULL: it counts in `indicators`,
-- never in an org unit's figure. Codes without rows have no row here; the figure says 0 or,
-- for a rate, nothing.
-- columns:
--   aggregation      汇总方式（count 计数 · sum 合计 · distinct 去重计数 · rate 比率） · how the figure aggregates: count | sum | distinct | rate
--   distinct_count   去重值个数（同一县区内同一值只计一次） · distinct values counted once within the county
with totals as (
    select * from indicator_totals
),

catalog as (
    select * from seed_indicator_catalog
),

summed as (
    select
        totals.county,
        totals.year,
        totals.code,
        any_value(catalog.aggregation) as aggregation,
        cast(sum(totals.row_count) as bigint) as row_count,
        cast(sum(totals.numerator_count) as bigint) as numerator_count,
        sum(totals.amount_sum) as amount_sum,
        count(distinct totals.distinct_value) as distinct_count
    from totals
    inner join catalog on totals.code = catalog.code
    group by totals.county, totals.year, totals.code
)

select * from summed
