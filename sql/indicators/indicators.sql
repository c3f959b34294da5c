-- indicators
-- relation: 年度指标（每年每个指标一行，含报告写法） · one row per (year, indicator): the value and the figure as the report prints it
-- Grain: one row per (year, indicator code), for every year that has data and every code of
-- the catalog. `value` is raw (yuan, not 万元; a rate in percent with one decimal) and NULL when
-- undefined (a rate whose denominator is 0, a roster figure without a roster that year);
-- `printed` is the value as the report prints it (`1.365万元`, `约8万余人次`).
-- columns:
--   year     年份 · year
--   value    数值（元；比率为百分数，保留一位小数；无定义为空） · the value: yuan, a rate in percent with one decimal, empty when undefined
--   printed  报告写法（如 1.365万元） · the figure as the report prints it (1.365万元)
with totals as (
    select * from indicator_totals
),

years as (
    select * from indicator_years
),

roster_rows as (
    select * from staff
),

catalog as (
    select * from seed_indicator_catalog
),

roster_years as (
    select distinct year from roster_rows
),

aggregated as (
    select
        code,
        year,
        cast(sum(row_count) as bigint) as row_count,
        cast(sum(numerator_count) as bigint) as numerator_count,
        sum(amount_sum) as amount_sum,
        -- a value counts once per county: each county's campaigns and tasks are its own, so
        -- that the figure of all the rows is the sum of the counties' (org_indicators)
        count(distinct case when distinct_value is not null then row(county, distinct_value) end)
            as distinct_count
    from totals
    group by code, year
),

grid as (
    select years.year, catalog.*
    from years
    cross join catalog
),

valued as (
    select
        grid.year,
        grid.code,
        grid.name_zh,
        grid.name_en,
        grid.unit,
        grid.section,
        grid.sort_order,
        case
            when grid.needs_snapshot and roster_years.year is null then null
            when grid.aggregation = 'rate' then
                case
                    when coalesce(aggregated.row_count, 0) = 0 then null
                    -- tenths of a percent, rounded half up in integer arithmetic
                    else cast(
                        (2000 * aggregated.numerator_count + aggregated.row_count)
                        // (2 * aggregated.row_count) as decimal(18, 1)
                    ) * 0.1
                end
            when grid.aggregation = 'distinct' then coalesce(aggregated.distinct_count, 0)
            when grid.aggregation = 'count' then coalesce(aggregated.row_count, 0)
            else coalesce(aggregated.amount_sum, 0)
        end as raw_value
    from grid
    left join aggregated on grid.code = aggregated.code and grid.year = aggregated.year
    left join roster_years on grid.year = roster_years.year
),

typed as (
    select *, cast(raw_value as decimal(18, 2)) as value
    from valued
),

rendered as (
    select
        year,
        code,
        name_zh,
        name_en,
        value,
        unit,
        render_indicator(code, cast(value as varchar)) as printed,
        section,
        sort_order
    from typed
),

ordered as (
    select year, code, name_zh, name_en, value, unit, printed, section
    from rendered
    order by year, sort_order
)

select * from ordered
