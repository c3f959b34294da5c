-- indicator_facts
-- materialized: view (read in full only by the few aggregate models below it and by explain,
-- which filters on code and year; writing its lineage rows cost more than all of them)
-- Grain: one row per (indicator code, ledger row behind it): every row that an annual figure
-- counts, sums, counts distinct keys of, or (for a rate) has in its denominator, with
-- `in_numerator` marking the rate's numerator rows. `version_id, path, sheet, row` trace each
-- row to the spreadsheet it came from; `explain` lists these rows.
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
        distinct_key,
        in_numerator,
        ledger,
        record_key,
        label,
        version_id,
        path,
        sheet,
        "row"
    from all_facts
    where year is not null
)

select * from typed
