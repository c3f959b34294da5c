-- indicator_series_quarterly
-- relation: 指标季度序列 · per (year, quarter, indicator) for the figures that add up over months
-- Grain: one row per (year, quarter, indicator code) for the count and sum figures that add up
-- over the year (catalog `series`), quarters 1–4 of every year that has data, 0 for a quarter
-- without rows. A distinct count is the distinct values within the quarter.
-- columns:
--   quarter       季度 · quarter (1–4)
--   period        期间（2024Q1） · the quarter as text, 2024Q1
--   period_start  期间首日 · the quarter's first day (DATE)
--   value         当季数值 · the quarter's value
with totals as (
    select * from indicator_totals
),

years as (
    select * from indicator_years
),

catalog as (
    select * from seed_indicator_catalog
),

quarters as (
    select unnest(range(1, 5)) as quarter
),

aggregated as (
    select
        code,
        year,
        (month + 2) // 3 as quarter,
        cast(sum(row_count) as bigint) as row_count,
        sum(amount_sum) as amount_sum,
        -- a value counts once per county: each county's campaigns and tasks are its own, so
        -- that the figure of all the rows is the sum of the counties' (org_indicators)
        count(distinct case when distinct_value is not null then row(county, distinct_value) end)
            as distinct_count
    from totals
    group by code, year, (month + 2) // 3
),

grid as (
    select years.year, quarters.quarter, catalog.*
    from years
    cross join quarters
    cross join catalog
    where catalog.series
),

valued as (
    select
        grid.year,
        grid.quarter,
        grid.year || 'Q' || grid.quarter as period,
        make_date(grid.year, 3 * grid.quarter - 2, 1) as period_start,
        grid.code,
        grid.name_zh,
        cast(
            case grid.aggregation
                when 'distinct' then coalesce(aggregated.distinct_count, 0)
                when 'count' then coalesce(aggregated.row_count, 0)
                else coalesce(aggregated.amount_sum, 0)
            end as decimal(18, 2)
        ) as value,
        grid.unit,
        grid.sort_order
    from grid
    left join aggregated
        on grid.code = aggregated.code
        and grid.year = aggregated.year
        and grid.quarter = aggregated.quarter
),

ordered as (
    select year, quarter, period, period_start, code, name_zh, value, unit
    from valued
    order by year, sort_order, quarter
)

select * from ordered
