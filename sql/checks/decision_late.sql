-- decision_late (warning)
-- A penalty decision more than 90 days after the case was filed (Administrative Penalty
-- Law art. 60: 90 days, extendable with approval). Reported on the case's current row.
select
    version_id,
    path,
    sheet,
    "row",
    'decided_on' as "column",
    '处罚决定日期' as header,
    strftime(decided_on, '%Y-%m-%d') as raw_value,
    'decision_late' as rule,
    'warning' as severity,
    '第' || "row" || '行「处罚决定日期」：立案（' || strftime(filed_on, '%Y-%m-%d') || '）后第'
        || (decided_on - filed_on) || '天才作出处罚决定，超过90天（如经批准延期请备注）'
        || '（原值：「' || strftime(decided_on, '%Y-%m-%d') || '」）' as message
from stg_cases
where decided_on is not null and filed_on is not null and decided_on - filed_on > 90
