-- relic_patrols
-- relation: 不可移动文物巡查（每次巡查一行，按巡查日期计） · one row per patrol of an immovable relic, dated by its date
-- Grain: one row per patrol of an immovable cultural relic (不可移动文物巡查), dated by its patrol
-- date.
-- materialized: view (a row-level mart: a view of its staging rows costs each reader
-- little, where writing it as a table cost more than all the rest of a build)
-- columns:
--   year     巡查年份 · year of the patrol
--   quarter  巡查季度 · quarter of the patrol
--   month    巡查月份 · month of the patrol
with staged_patrols as (
    select * from stg_relic_patrols
),

dated as (
    select
        *,
        year(patrol_date) as year,
        quarter(patrol_date) as quarter,
        month(patrol_date) as month
    from staged_patrols
)

select * from dated
