-- indicator_facts
-- relation: 指标明细（每个指标的每一计数行，可追溯到文件、工作表、行） · one row per (indicator, ledger row behind it), traced to file, sheet and row
-- materialized: view (read in full only by the few aggregate models below it and by explain,
-- which filters on code and year; writing its lineage rows cost more than all of them)
-- Grain: one row per (indicator code, ledger row behind it): every row that an annual figure
-- counts, sums, counts distinct values of, or (for a rate) has in its denominator, with
-- `meets_condition` marking the rate's numerator rows. `version_id, path, sheet, row` trace each
-- row to the spreadsheet it came from; `explain` lists these rows.
-- columns:
--   code             指标代码 · the indicator's code
--   year             计入年份 · the year the row counts in
--   dated_on         计数日期 · the date that places the row in its year and month
--   amount           数量或金额（计数为 1） · what the row adds: 1 for a count, else a quantity or yuan
--   distinct_value   去重值（按不同值计数的指标：同一值只计一次） · for a distinct count, the value counted once (a campaign, a spot-check task)
--   meets_condition  符合条件、计入分子（比率指标：按时、办结、持证等；其余指标恒为真） · the row meets the figure's condition (for a rate: on time, closed, certified…) and counts in its numerator; always true for a count or sum
--   ledger           台账代码 · the ledger the row comes from
--   record_key       记录键（案件编号、工单号等） · the row's own key: case number, ticket number, …
--   label            说明（场所、标题等） · a label for the row: venue, title, …
--   county           县区（行政区划代码，取自所在行 raw.<台账>._county） · the county the row belongs to: its GB/T 2260 code, from raw.<ledger>._county
with market as (
    select * from market_facts
),

case_events as (
    select * from case_facts
),

hotline as (
    select * from hotline_facts
),

publicity as (
    select * from publicity_facts
),

training as (
    select * from training_facts
),

staffing as (
    select * from roster_facts
),

all_facts as (
    select * from market
    union all by name select * from case_events
    union all by name select * from hotline
    union all by name select * from publicity
    union all by name select * from training
    union all by name select * from staffing
),

typed as (
    select
        code,
        year,
        dated_on,
        cast(amount as decimal(18, 2)) as amount,
        distinct_value,
        meets_condition,
        ledger,
        record_key,
        label,
        county,
        version_id,
        path,
        sheet,
        "row"
    from all_facts
    where year is not null
)

select * from typed
