-- stg_food_checks
-- Grain: one row per food safety check of the current version of each monthly file.
-- The current version of each file is tally's one rule, the view current_versions.
with source as (
    select * from raw.food_checks
)

select
    current_versions.version_id,
    current_versions.path,
    source._sheet as sheet,
    source._row as "row",
    current_versions.scope,
    source.checked_on,
    source.business,
    source.trade,
    source.inspectors,
    source.outcome
from source
inner join current_versions on source._version_id = current_versions.version_id
