-- indicator_totals
-- relation: 指标月度小计（每个县区、指标、年、月、去重值一行） · per (county, indicator, year, month, distinct value): rows, numerator rows, sum
-- Grain: one row per (county, indicator code, year, month, distinct value): the rows of `indicator_facts`
-- counted, counted in the numerator, and summed. It is the one model that reads the row-level
-- facts in full; the annual figures, the series and the years add up its few thousand rows
-- instead of scanning every ledger row once each. Keeping the distinct value in the grain lets a
-- distinct count over any span of months be counted again exactly; keeping the county lets
-- one build give every county's figures (`county_totals`) and every org unit's (`org_indicators`).
-- columns:
--   month            月 · month of dated_on
--   row_count        行数 · rows counted
--   numerator_count  分子行数 · rows in the numerator
--   amount_sum       数量或金额合计 · sum of amount
with facts as (
    -- a bureau's own facts model may not carry the county yet: its rows then have none
    select * from indicator_facts
    union all by name
    select cast(null as varchar) as county
    where false
),

totals as (
    select
        county,
        code,
        year,
        month(dated_on) as month,
        distinct_value,
        count(*) as row_count,
        count(*) filter (where meets_condition) as numerator_count,
        sum(amount) as amount_sum
    from facts
    group by county, code, year, month(dated_on), distinct_value
)

select * from totals
