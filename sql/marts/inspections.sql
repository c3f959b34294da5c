-- inspections
-- relation: 执法检查（每次检查一行，按检查日期计） · one row per inspection (a venue, or one online patrol), dated by its inspection date
-- Grain: one row per inspection (a venue inspected, or one online patrol) in the current
-- inspection ledgers, dated by its own inspection date.
-- materialized: view (a row-level mart: a view of its staging rows costs each reader
-- little, where writing it as a table cost more than all the rest of a build)
-- columns:
--   year                 检查年份 · year of the inspection date
--   quarter              检查季度 · quarter of the inspection date
--   month                检查月份 · month of the inspection date
--   is_spot_check        是否抽查（双随机抽查或联合抽查） · a random or joint spot check
--   is_venue_inspection  是否实地检查（网上巡查以外） · an inspection on site (not an online patrol)
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
