-- study_sessions
-- relation: 学法培训（每次学习、培训或会议一行，按举办日期计） · one row per study session, training or meeting, dated by its day
-- Grain: one row per study session, training or meeting (学法培训台账 row), dated by the day it
-- was held.
-- materialized: view (a row-level mart: a view of its staging rows costs each reader
-- little, where writing it as a table cost more than all the rest of a build)
-- columns:
--   year     举办年份 · year held
--   quarter  举办季度 · quarter held
--   month    举办月份 · month held
with staged_sessions as (
    select * from stg_study_sessions
),

dated as (
    select
        *,
        year(held_on) as year,
        quarter(held_on) as quarter,
        month(held_on) as month
    from staged_sessions
)

select * from dated
