-- problem_log
-- relation: 问题清单（tally problems 所列：现行版本的问题、退回的文件、交叉核对警告） · what tally problems lists: problems of current versions, rejected files, cross-check warnings
-- materialized: view
-- Grain: one row per thing a clerk must look at, each with the ledger, scope and period of its
-- file so that it goes back to the unit that keeps the ledger:
--   load     a problem the load found in a row of a current version (an error quarantined
--            the row, a warning let it load); problems of replaced versions are history only
--   rejected a file whose latest submission under its path was rejected, with the reason
--   check    a cross-ledger warning (`check_warnings`, rebuilt by the checks after the models:
--            the build creates it empty until they first run)
-- `dated` places a row in a year: the period's first day, else the day the file was seen.
-- columns:
--   source  来源 · load (a row's problem) | rejected (a file) | check (a cross-check warning)
--   dated   归属日期（期间首日，否则发现日期） · the day that places it in a year: the period's first day, else the day the file was seen
with versions as (
    select
        version_id, path, scope, ledger, period, period_start, sheet, status, reason,
        coalesce(period_start, cast(seen_at as date)) as dated
    from file_versions
),

latest_per_path as (
    select path, max(version_id) as version_id
    from versions
    group by path
),

load_problems as (
    select
        'load' as source, v.ledger, v.scope, v.period, v.dated,
        p.version_id, p.path, p.sheet, p."row", p."column", p.header, p.raw_value, p.rule,
        p.severity, p.message,
        v.period_start
    from problems as p
    inner join versions as v using (version_id)
    inner join current_versions as c using (version_id)
),

rejected_files as (
    select
        'rejected' as source, v.ledger, v.scope, v.period, v.dated,
        v.version_id, v.path, v.sheet, null as "row", null as "column", null as header,
        null as raw_value, 'file_rejected' as rule, 'error' as severity, v.reason as message,
        v.period_start
    from versions as v
    inner join latest_per_path using (version_id)
    where v.status = 'rejected'
),

check_problems as (
    select
        'check' as source, v.ledger, v.scope, v.period, v.dated,
        w.version_id, w.path, w.sheet, w."row", w."column", w.header, w.raw_value, w.rule,
        w.severity, w.message,
        v.period_start
    from check_warnings as w
    inner join versions as v using (version_id)
)

select * from load_problems
union all
select * from rejected_files
union all
select * from check_problems
