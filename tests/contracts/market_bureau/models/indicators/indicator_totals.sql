-- indicator_totals
-- Grain: one row per (indicator code, year, month, distinct key): the rows of `indicator_facts`
-- counted, counted in the numerator, and summed. It is the one model that reads the row-level
-- facts in full; the annual figures, the series and the years add up its few thousand rows
-- instead of scanning every ledger row once each. Keeping the distinct key in the grain lets a
-- distinct count over any span of months be counted again exactly.
with facts as (
    select * from indicator_facts
),

totals as (
    select
        code,
        year,
        month(dated_on) as month,
        distinct_key,
        count(*) as row_count,
        count(*) filter (where in_numerator) as numerator_count,
        sum(amount) as amount_sum
    from facts
    group by code, year, month(dated_on), distinct_key
)

select * from totals
