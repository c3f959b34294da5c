-- inspections
-- Grain: one row per inspection (a venue inspected, or one online patrol) in the current
-- inspection ledgers, dated by its own inspection date.
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
