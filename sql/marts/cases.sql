-- cases
-- relation: 行政处罚案件（每案一行，取最新登记表） · one row per administrative penalty case, as the latest register shows it
-- Grain: one row per administrative penalty case, as the latest register shows it.
-- Adds the disclosure deadline: the 7th working day after the decision day (the decision day
-- not counted), on the official calendar with its holidays and make-up working days.
-- columns:
--   filed_year           立案年份 · year the case was filed
--   filed_month          立案月份 · month the case was filed
--   decided_year         处罚决定年份 · year of the penalty decision
--   decided_month        处罚决定月份 · month of the penalty decision
--   disclosure_deadline  公示期限（决定后第 7 个工作日） · disclosure deadline: the 7th working day after the decision
--   disclosed_on_time    是否按时公示 · disclosed on or before the deadline
with staged_cases as (
    select * from stg_cases
),

calendar_days as (
    select * from calendar
),

decision_days as (
    select staged_cases.county, staged_cases.case_no, calendar_days.working_day_no
    from staged_cases
    inner join calendar_days on staged_cases.decided_on = calendar_days.day
),

deadlines as (
    select decision_days.county, decision_days.case_no, min(calendar_days.day) as disclosure_deadline
    from decision_days
    inner join calendar_days
        on calendar_days.is_working_day
        and calendar_days.working_day_no = decision_days.working_day_no + 7
    group by decision_days.county, decision_days.case_no
),

enriched as (
    select
        staged_cases.*,
        year(staged_cases.filed_on) as filed_year,
        month(staged_cases.filed_on) as filed_month,
        year(staged_cases.decided_on) as decided_year,
        month(staged_cases.decided_on) as decided_month,
        deadlines.disclosure_deadline,
        staged_cases.disclosed_on <= deadlines.disclosure_deadline as disclosed_on_time
    from staged_cases
    left join deadlines
        on staged_cases.case_no = deadlines.case_no
        and staged_cases.county is not distinct from deadlines.county
)

select * from enriched
