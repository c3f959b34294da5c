-- disclosure_late (warning)
-- A penalty decision should be published (公示) within 7 working days of the decision: on or
-- before the 7th working day after it, the decision day not counted, on the official calendar
-- with its make-up working days (`calendar`). Reported on the case's current row.
with decided as (
    select stg_cases.*, calendar.working_day_no as decided_no
    from stg_cases
    inner join calendar on calendar.day = stg_cases.decided_on
    where stg_cases.decided_on is not null and stg_cases.disclosed_on is not null
),

deadlines as (
    select decided.*, (
        select min(day) from calendar
        where calendar.is_working_day and calendar.working_day_no = decided.decided_no + 7
    ) as deadline
    from decided
)

select
    version_id,
    path,
    sheet,
    "row",
    'disclosed_on' as "column",
    '公示日期' as header,
    strftime(disclosed_on, '%Y-%m-%d') as raw_value,
    'disclosure_late' as rule,
    'warning' as severity,
    '第' || "row" || '行「公示日期」：处罚决定（' || strftime(decided_on, '%Y-%m-%d')
        || '）后应在7个工作日内公示，最迟' || strftime(deadline, '%Y-%m-%d')
        || '（原值：「' || strftime(disclosed_on, '%Y-%m-%d') || '」）' as message
from deadlines
where deadline is not null and disclosed_on > deadline
