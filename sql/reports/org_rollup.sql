-- org_rollup
-- A query, not a model: it reads two tables that `flows/transform/rollup.py` fills, run on
-- their own connection.
--   county_totals(county, year, code, aggregation, row_count, numerator_count, amount_sum,
--                 distinct_count): each county's indicator totals as its own build counted them
--                 (`indicator_totals` added up per code and year), with the catalog's aggregation;
--   org_members(org, county): every org unit at or above each county (a county is its own member).
-- Grain: one row per (org, year, code): the org's figure from its counties' numerators and
-- denominators. Counts and sums add up; a rate is recomputed from the summed numerator and
-- denominator, rounded as `indicators.sql` rounds it, never averaged over counties; a distinct
-- count adds up each county's own (a county's keys are its own: its case numbers, its tickets).
-- `counties` is how many counties of the org had data for the year.
with totals as (
    select * from county_totals
),

members as (
    select * from org_members
),

summed as (
    select
        members.org,
        totals.year,
        totals.code,
        any_value(totals.aggregation) as aggregation,
        cast(sum(totals.row_count) as bigint) as row_count,
        cast(sum(totals.numerator_count) as bigint) as numerator_count,
        sum(totals.amount_sum) as amount_sum,
        cast(sum(totals.distinct_count) as bigint) as distinct_count,
        count(distinct totals.county) as counties
    from totals
    inner join members on totals.county = members.county
    group by members.org, totals.year, totals.code
),

valued as (
    select
        org,
        year,
        code,
        row_count,
        numerator_count,
        counties,
        case
            when aggregation = 'rate' then
                case
                    when row_count = 0 then null
                    else cast((2000 * numerator_count + row_count) // (2 * row_count) as decimal(18, 1)) * 0.1
                end
            when aggregation = 'distinct' then distinct_count
            when aggregation = 'count' then row_count
            else coalesce(amount_sum, 0)
        end as raw_value
    from summed
)

select org, year, code, cast(raw_value as decimal(18, 2)) as value, row_count, numerator_count, counties
from valued
order by org, year, code
