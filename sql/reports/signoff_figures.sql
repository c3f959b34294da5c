-- signoff_figures
-- A query, not a model: the figures a sign-off stores, read by `flows/run/signoff.py` from one
-- county's own build (`build_from_lake(county=…)` at the signed snapshot). It reads that build's
-- `seed_indicator_catalog` and `indicators`, and `county_totals`: the build's indicator totals as
-- `flows/transform/rollup.py` (COUNTY_TOTALS) adds them up, registered by the caller, so that the
-- stored totals are exactly what a city's roll-up would have computed from the same build.
-- Parameter: $year.
-- Grain: one row per indicator of the catalog, in report order: the totals the roll-up adds
-- (NULL when the indicator has no row that year) and the county's figure (`indicators.value`:
-- yuan, a rate in percent; NULL when undefined).
with catalog as (
    select code, aggregation, sort_order
    from seed_indicator_catalog
),

totals as (
    select *
    from county_totals
    where year = $year
),

figures as (
    select code, value
    from indicators
    where year = $year
)

select
    catalog.code,
    catalog.aggregation,
    totals.row_count,
    totals.numerator_count,
    totals.amount_sum,
    totals.distinct_count,
    figures.value
from catalog
left join totals on catalog.code = totals.code
left join figures on catalog.code = figures.code
order by catalog.sort_order
