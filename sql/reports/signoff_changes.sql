-- signoff_changes
-- A query, not a model: which of a county's figures moved since its sign-off, read by
-- `flows/run/signoff.py` (`tally indicators --org CODE --year Y --changes-since-signoff`).
-- It reads two relations the caller registers, both with the columns of `signoff_figures.sql`
-- plus `reported` (the figure's ledgers were submitted for the year):
--   signed   the figures stored with the county's latest sign-off (`signed_totals`);
--   current  the same figures rebuilt from the lake's latest snapshot;
-- and `seed_indicator_catalog` of the current build for the names, units and order.
-- Grain: one row per indicator whose value or reported state differs (NULL = NULL counts as
-- equal: an undefined rate that stays undefined has not moved). `change` is current − signed,
-- NULL when either side has no value.
with catalog as (
    select code, name_zh, unit, sort_order
    from seed_indicator_catalog
),

signed as (
    select code, value, reported
    from signed
),

current_figures as (
    select code, value, reported
    from current
)

select
    catalog.code,
    catalog.name_zh,
    catalog.unit,
    signed.value as signed_value,
    current_figures.value as current_value,
    current_figures.value - signed.value as change,
    signed.reported as signed_reported,
    current_figures.reported as current_reported
from catalog
left join signed on catalog.code = signed.code
left join current_figures on catalog.code = current_figures.code
where signed.value is distinct from current_figures.value
    or signed.reported is distinct from current_figures.reported
order by catalog.sort_order
