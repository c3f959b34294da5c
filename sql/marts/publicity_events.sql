-- publicity_events
-- Grain: one row per legal-publicity event (普法宣传活动, online or on site), dated by its event
-- date.
-- incremental: version_id (each row is one row of one loaded file version: a changed file
-- replaces its own rows, the rest are kept)
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
