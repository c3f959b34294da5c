-- inspections
-- Grain: one row per inspection (a venue inspected, or one online patrol) in the current
-- inspection ledgers, dated by its own inspection date.
-- incremental: version_id (each row is one row of one loaded file version: a changed file
-- replaces its own rows, the rest are kept)
with staged_inspections as (
    select * from stg_inspections
),

flagged as (
    select
        *,
        year(inspection_date) as year,
        quarter(inspection_date) as quarter,
        month(inspection_date) as month,
        inspection_type in ('双随机抽查', '联合抽查') as is_spot_check,
        inspection_type <> '网上巡查' as is_venue_inspection
    from staged_inspections
)

select * from flagged
