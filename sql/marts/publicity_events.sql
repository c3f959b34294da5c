-- publicity_events
-- relation: 普法宣传活动（每次活动一行，按活动日期计） · one row per legal-publicity event, dated by its date
-- Grain: one row per legal-publicity event (普法宣传活动, online or on site), dated by its event
-- date.
-- materialized: view (a row-level mart: a view of its staging rows costs each reader
-- little, where writing it as a table cost more than all the rest of a build)
-- columns:
--   year          活动年份 · year of the event
--   quarter       活动季度 · quarter of the event
--   month         活动月份 · month of the event
--   is_theme_day  是否主题日活动（4·23、4·26、6·13、6·26、12·4） · held for one of the five theme days
with staged_events as (
    select * from stg_publicity_events
),

flagged as (
    select
        *,
        year(event_date) as year,
        quarter(event_date) as quarter,
        month(event_date) as month,
        -- the five theme days the report names: 4·23, 4·26, 6·13, 6·26, 12·4
        theme in ('世界读书日', '知识产权宣传周', '文化和自然遗产日', '国际禁毒日', '国家宪法日')
            as is_theme_day
    from staged_events
)

select * from flagged
