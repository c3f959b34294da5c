-- notices
-- A query, not a model (`flows.models` builds only staging/, marts/ and indicators/): what a
-- run's notification may say, read by `flows/report/notices.py` on the run's own copy of the
-- warehouse after the models and the cross-checks. Each row has a key that says what it is;
-- `notices_sent` remembers the keys already sent, so a notification carries only what is new.
-- Grain: one row per thing a unit must act on:
--   rejected     a file whose latest submission under its path was rejected (problem_log)
--   quarantined  a current file version with rows quarantined by an error (problem_log)
--   check        one row a cross-ledger check warns about (problem_log), by the check's rule
--   late         a month handed in after its deadline while tally was watching (submissions)
--   missing      a month past its deadline with nothing accepted (submissions)
-- Columns: notice_key, kind, scope, unit_zh, ledger_zh, ledger_order, period, path, rows, detail.
with units as (
    select ledger, ledger_zh, unit_zh, ledger_order
    from seed_ledger_units
),

found as (
    select
        'rejected:' || version_id as notice_key, 'rejected' as kind, scope, ledger, period, path,
        null::bigint as "rows", message as detail
    from problem_log
    where source = 'rejected'

    union all

    select
        'quarantined:' || version_id, 'quarantined', scope, ledger, period, path,
        count(*), null
    from problem_log
    where source = 'load' and severity = 'error'
    group by version_id, scope, ledger, period, path

    union all

    select
        'check:' || rule || ':' || version_id || ':' || coalesce(cast("row" as varchar), ''),
        'check', scope, ledger, period, path, 1, rule
    from problem_log
    where source = 'check'

    union all

    select
        status || ':' || scope || ':' || ledger || ':' || period,
        status, scope, ledger, period, null, null, strftime(deadline, '%Y-%m-%d')
    from submissions
    where status in ('late', 'missing')
)

select
    found.notice_key,
    found.kind,
    found.scope,
    coalesce(units.unit_zh, '未识别单位') as unit_zh,
    coalesce(units.ledger_zh, '未识别台账') as ledger_zh,
    coalesce(units.ledger_order, 9999) as ledger_order,
    found.period,
    found.path,
    found."rows",
    found.detail
from found
left join units on found.ledger = units.ledger
where found.notice_key not in (select notice_key from notices_sent)
-- units in the contract's order of their first ledger; a file of no known ledger last
order by
    found.scope,
    min(coalesce(units.ledger_order, 9999)) over (partition by found.scope, units.unit_zh),
    ledger_order, found.kind, found.period, found.path
