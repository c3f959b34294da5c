-- indicator_totals
-- relation: 指标月度小计（每个指标、年、月、去重值一行） · per (indicator, year, month, distinct value): rows, numerator rows, sum
-- Grain: one row per (indicator code, year, month, distinct value): the rows of `indicator_facts`
-- counted, counted in the numerator, and summed. It is the one model that reads the row-level
-- facts in full; the annual figures, the series and the years add up its few thousand rows
-- instead of scanning every ledger row once each. Keeping the distinct value in the grain lets a
-- distinct count over any span of months be counted again exactly.
-- columns:
--   month            月 · month of dated_on
--   row_count        行数 · rows counted
--   numerator_count  分子行数 · rows in the numerator
--   amount_sum       数量或金额合计 · sum of amount
with facts as (
    select * from indicator_facts
),

totals as (
    select
        code,
        year,
        month(dated_on) as month,
        distinct_value,
        count(*) as row_count,
        count(*) filter (where meets_condition) as numerator_count,
        sum(amount) as amount_sum
    from facts
    group by code, year, month(dated_on), distinct_value
)

select * from totals
