-- study_sessions
-- Grain: one row per study session, training or meeting (学法培训台账 row), dated by the day it
-- was held.
-- incremental: version_id (each row is one row of one loaded file version: a changed file
-- replaces its own rows, the rest are kept)
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
