-- indicator_facts
-- materialized: view
-- Grain: one row per (indicator code, ledger row behind it), typed as every bureau's are.
with all_facts as (
    select * from market_bureau_facts
)

select
    code, year, dated_on, cast(amount as decimal(18, 2)) as amount, distinct_value, meets_condition,
    ledger, record_key, label, version_id, path, sheet, "row"
from all_facts
where year is not null
