-- indicator_series_monthly
-- relation: 指标月度序列（可逐月累加的指标，每年 1–12 月） · per (year, month, indicator) for the figures that add up over months
-- Grain: one row per (year, month, indicator code) for the count and sum figures that add up
-- over the year (catalog `series`), months 1–12 of every year that has data, 0 for a month
-- without rows. A distinct count is the distinct values within the month.
-- columns:
--   month         月 · month (1–12)
--   period        期间（2024-03） · the month as text, 2024-03
--   period_start  期间首日 · the month's first day (DATE)
--   value         当月数值 · the month's value
with totals as (
    select * from indicator_totals
),

years as (
    select * from indicator_years
),

catalog as (
    select * from seed_indicator_catalog
),

months as (
    select unnest(range(1, 13)) as month
),

aggregated as (
    select
        code,
        year,
        month,
        cast(sum(row_count) as bigint) as row_count,
        sum(amount_sum) as amount_sum,
        -- a value counts once per county: each county's campaigns and tasks are its own, so
        -- that the figure of all the rows is the sum of the counties' (org_indicators)
        count(distinct case when distinct_value is not null then row(county, distinct_value) end)
            as distinct_count
    from totals
    group by code, year, month
),

grid as (
    select years.year, months.month, catalog.*
    from years
    cross join months
    cross join catalog
    where catalog.series
),

valued as (
    select
        grid.year,
        grid.month,
        strftime(make_date(grid.year, grid.month, 1), '%Y-%m') as period,
        make_date(grid.year, grid.month, 1) as period_start,
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
        and grid.month = aggregated.month
),

ordered as (
    select year, month, period, period_start, code, name_zh, value, unit
    from valued
    order by year, sort_order, month
)

select * from ordered
