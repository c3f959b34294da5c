-- calendar
-- relation: 日历（每天一行，含官方工作日与调休） · one row per day, with official working days and make-up days
-- Grain: one row per day, from 1 January of the first year that has ledger data to
-- 31 December of the year after the last one (a penalty decided in late December has its
-- disclosure deadline in January). Working days follow the official calendar (statutory
-- holidays and make-up working days, from chinese_calendar) where it is published, else
-- Monday to Friday; `is_official` says which.
-- fingerprint: content (it reads every ledger only for its first and last year: a new file
-- seldom changes it, and then the cases and their deadlines need not be rebuilt)
-- columns:
--   year                   年 · year
--   quarter                季度 · quarter (1–4)
--   month                  月 · month (1–12)
--   iso_weekday            星期（1 为周一） · ISO weekday, 1 = Monday
--   is_official            是否有官方日历 · the official calendar covers this day (else Monday–Friday)
--   is_working_day         是否工作日 · a working day
--   is_makeup_working_day  是否调休上班日 · a weekend day made a working day (调休上班)
--   holiday_name           节假日名称 · the statutory holiday it belongs to
--   working_day_no         工作日序号（自日历首日起累计） · working days up to and including this day, from the calendar's first day
with official_days as (
    select * from seed_official_calendar
),

inspections_days as (
    select inspection_date as day from stg_inspections
),

relic_patrols_days as (
    select patrol_date as day from stg_relic_patrols
),

publications_days as (
    select action_date as day from stg_publications
),

cases_days as (
    select unnest([filed_on, decided_on, disclosed_on, closed_on]) as day from stg_cases
),

hotline_days as (
    select unnest([received_on, due_on, replied_on, closed_on]) as day from stg_hotline
),

incidents_days as (
    select occurred_on as day from stg_safety_incidents
),

publicity_events_days as (
    select event_date as day from stg_publicity_events
),

posts_days as (
    select posted_on as day from stg_wechat_posts
),

study_sessions_days as (
    select held_on as day from stg_study_sessions
),

staff_days as (
    select snapshot_date as day from stg_staff
),

data_days as (
    select day from inspections_days
    union all select day from relic_patrols_days
    union all select day from publications_days
    union all select day from cases_days
    union all select day from hotline_days
    union all select day from incidents_days
    union all select day from publicity_events_days
    union all select day from posts_days
    union all select day from study_sessions_days
    union all select day from staff_days
),

bounds as (
    select
        make_date(min(year(day)), 1, 1) as first_day,
        make_date(max(year(day)) + 2, 1, 1) as end_day
    from data_days
    where day is not null
),

days as (
    select cast(generated.range as date) as day
    from bounds,
        range(bounds.first_day, bounds.end_day, interval 1 day) as generated
),

labelled as (
    select
        days.day,
        year(days.day) as year,
        quarter(days.day) as quarter,
        month(days.day) as month,
        isodow(days.day) as iso_weekday,
        official_days.day is not null as is_official,
        coalesce(official_days.is_working_day, isodow(days.day) <= 5) as is_working_day,
        coalesce(official_days.is_makeup_working_day, false) as is_makeup_working_day,
        official_days.holiday_name
    from days
    left join official_days on days.day = official_days.day
),

numbered as (
    select
        *,
        -- working days up to and including this day, counted from the calendar's first day
        sum(case when is_working_day then 1 else 0 end) over (
            order by day rows between unbounded preceding and current row
        ) as working_day_no
    from labelled
)

select * from numbered
