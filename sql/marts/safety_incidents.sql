-- safety_incidents
-- relation: 安全生产事故（每起一行，按发生日期计） · one row per work-safety incident, dated by the day it happened
-- Grain: one row per work-safety incident (安全生产事故) at a cultural or tourism venue, dated by
-- the day it happened.
-- materialized: view (a row-level mart: a view of its staging rows costs each reader
-- little, where writing it as a table cost more than all the rest of a build)
-- columns:
--   year     发生年份 · year it happened
--   quarter  发生季度 · quarter it happened
--   month    发生月份 · month it happened
with staged_incidents as (
    select * from stg_safety_incidents
),

dated as (
    select
        *,
        year(occurred_on) as year,
        quarter(occurred_on) as quarter,
        month(occurred_on) as month
    from staged_incidents
)

select * from dated
