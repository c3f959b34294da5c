-- relic_patrols
-- Grain: one row per patrol of an immovable cultural relic (不可移动文物巡查), dated by its patrol
-- date.
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
