-- indicator_totals
-- relation: 指标月度小计（每个县区、指标、年、月、去重值、文件版本一行） · per (county, indicator, year, month, distinct value, file version): rows, numerator rows, sum
-- Grain: one row per (county, indicator code, year, month, distinct value, file version): the
-- rows of `indicator_facts` counted, counted in the numerator, and summed. It is the one model
-- that reads the row-level facts in full; the annual figures, the series and the years add up
-- its few thousand rows instead of scanning every ledger row once each. Keeping the distinct
-- value in the grain lets a distinct count over any span of months be counted again exactly;
-- keeping the county lets one build give every county's figures (`county_totals`) and every
-- org unit's (`org_indicators`); keeping the file version lets a run that changed one monthly
-- file replace that file's rows alone, as the incremental marts do.
-- incremental: version_id (each row adds up rows of one file version: when only ledgers whose
-- marts are incremental changed, the rows of versions no longer current are deleted and those
-- of new versions added; any other change builds it again)
-- columns:
--   month            月 · month of dated_on
--   row_count        行数 · rows counted
--   numerator_count  分子行数 · rows in the numerator
--   amount_sum       数量或金额合计 · sum of amount
with facts as (
    -- a bureau's own facts model may not carry the county or the version yet: its rows then
    -- have none (and a table with rows of no version is always built again, never updated)
    select * from indicator_facts
    union all by name
    select cast(null as varchar) as county, cast(null as bigint) as version_id
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
        sum(amount) as amount_sum,
        version_id
    from facts
    group by county, code, year, month(dated_on), distinct_value, version_id
)

select * from totals
