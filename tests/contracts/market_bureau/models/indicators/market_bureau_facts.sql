-- market_bureau_facts
-- materialized: view
-- Grain: one row per (indicator code, ledger row behind it).
with checks as (
    select * from stg_food_checks
),

complaints as (
    select * from stg_complaints
),

all_facts as (
    select
        'food_checks' as code, year(checked_on) as year, checked_on as dated_on, 1 as amount,
        null as distinct_value, true as meets_condition, 'food_checks' as ledger, business as record_key,
        trade as label, version_id, path, sheet, "row"
    from checks
    union all
    select
        'food_inspector_times', year(checked_on), checked_on, inspectors, null, true, 'food_checks',
        business, trade, version_id, path, sheet, "row"
    from checks
    union all
    select
        'money_recovered', year(received_on), received_on, recovered_yuan, null, true, 'complaints',
        complaint_no, null, version_id, path, sheet, "row"
    from complaints
)

select * from all_facts
