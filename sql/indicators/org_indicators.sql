-- org_indicators
-- relation: 各级单位年度指标（县区、市、自治区，由所辖县区汇总） · per (org unit, year, indicator): every county's, city's and the province's figure from its counties
-- Grain: one row per (org unit, year, indicator code) for every org unit of `seed_org_units`
-- with a county that has rows in the year (a county is an org unit of its own), and every code
-- of the catalog. Counts, sums and distinct counts add up over the org's counties (a distinct
-- value is each county's own: its campaigns, its spot-check tasks); a rate is recomputed from
-- the summed numerator and denominator and rounded as `indicators` rounds it, never an average
-- of the counties' rates. A roster figure is empty when none of the org's counties has a
-- roster that year. Counties with no rows in the year are missing from the sum, never zeros:
-- `counties` says how many counties made the figure (the late ones are the others).
-- `flows/transform/rollup.py` runs this same SQL on county totals given as a frame (a
-- sign-off's), so that the rule is written once.
-- columns:
--   org              单位（行政区划代码） · the org unit: its GB/T 2260 code
--   counties         有数据的县区数 · how many of the org's counties have rows in the year
with totals as (
    select * from county_totals
),

members as (
    select * from seed_org_members
),

catalog as (
    select * from seed_indicator_catalog
),

summed as (
    select
        members.org,
        totals.year,
        totals.code,
        cast(sum(totals.row_count) as bigint) as row_count,
        cast(sum(totals.numerator_count) as bigint) as numerator_count,
        sum(totals.amount_sum) as amount_sum,
        cast(sum(totals.distinct_count) as bigint) as distinct_count
    from totals
    inner join members on totals.county = members.county
    group by members.org, totals.year, totals.code
),

org_years as (
    select members.org, totals.year, count(distinct totals.county) as counties
    from totals
    inner join members on totals.county = members.county
    group by members.org, totals.year
),

roster_org_years as (
    select distinct members.org, totals.year
    from totals
    inner join members on totals.county = members.county
    inner join catalog on totals.code = catalog.code
    where catalog.needs_snapshot
),

grid as (
    select org_years.org, org_years.year, org_years.counties, catalog.*
    from org_years
    cross join catalog
),

valued as (
    select
        grid.org,
        grid.year,
        grid.code,
        coalesce(summed.row_count, 0) as row_count,
        coalesce(summed.numerator_count, 0) as numerator_count,
        grid.counties,
        grid.sort_order,
        case
            when grid.needs_snapshot and roster_org_years.org is null then null
            when grid.aggregation = 'rate' then
                case
                    when coalesce(summed.row_count, 0) = 0 then null
                    -- tenths of a percent, rounded half up in integer arithmetic, as indicators.sql
                    else cast(
                        (2000 * summed.numerator_count + summed.row_count)
                        // (2 * summed.row_count) as decimal(18, 1)
                    ) * 0.1
                end
            when grid.aggregation = 'distinct' then coalesce(summed.distinct_count, 0)
            when grid.aggregation = 'count' then coalesce(summed.row_count, 0)
            else coalesce(summed.amount_sum, 0)
        end as raw_value
    from grid
    left join summed
        on grid.org = summed.org and grid.year = summed.year and grid.code = summed.code
    left join roster_org_years
        on grid.org = roster_org_years.org and grid.year = roster_org_years.year
),

ordered as (
    select
        org, year, code, cast(raw_value as decimal(18, 2)) as value, row_count, numerator_count, counties
    from valued
    order by org, year, sort_order
)

select * from ordered
