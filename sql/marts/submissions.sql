-- submissions
-- relation: 台账报送情况（每个单位、台账、月份：按时、逾期、未报或未到期） · per unit, ledger and month: on time, late, missing or not yet due
-- materialized: view
-- Grain: one row per (scope, ledger, period): for a monthly ledger (period or register) every
-- month of the years in scope, handed in or not; for the staff roster (a snapshot, due no
-- month) one row per snapshot received. The years in scope run from the first year any
-- ledger file was handed in for to the later of the last such year and this year.
-- A view, so that "missing" and "not yet due" are as of the day it is read (in the bureau's
-- time zone), not the day of the last run. `tally completeness`, the report's grid, the
-- "has data" rule of the report and the run's notification all read it.
-- Received: the time tally first saw an accepted version of the month (file_versions.seen_at,
-- recorded per version), never the file's modification time, which a copy (cp without -p, a
-- zip extract, a move between disks) rewrites or keeps from the clerk's last save. A month is
-- on time when that is before the end of the deadline day plus the grace (seed_submission_rules);
-- a month whose deadline (plus grace) had already passed when tally first saw any file is
-- `before_tracking`: handed in, when is not known (a back-loaded year), never counted on time.
-- columns:
--   scope            县区（文件夹，单县为空） · county folder above the ledger folder ('' for one county)
--   unit             填报单位代码 · code of the unit that keeps the ledger (contract)
--   unit_zh          填报单位 · the unit that keeps the ledger
--   ledger           台账代码 · ledger code
--   ledger_zh        台账名称 · ledger name
--   ledger_order     台账顺序 · the contract's order of the ledgers
--   year             年度 · year of the period
--   month            月份 · month of the period (a snapshot: the month of its date)
--   period           期次 · 2024-03; a snapshot as named (2024-12-31 or 2024)
--   period_start     期次首日 · first day of the month; a snapshot: its date
--   expected         是否按月应报 · due monthly (false for a snapshot)
--   deadline         报送截止日 · the day of the following month the month is due
--   due_by           最迟收到时间 · received before this instant is on time (deadline day's end plus the grace)
--   status           状态代码 · on_time | late | before_tracking | missing | not_due | snapshot
--   status_zh        状态 · 已按时报送 / 逾期报送 / 已报送（开始跟踪前收到） / 未报送 / 未到报送期限 / 名录快照
--   submitted        是否已报送 · some version was accepted (a zero report counts)
--   zero_report      是否零报告 · the current version says nothing happened
--   on_time          是否按时 · received by due_by (null: not submitted, or not known)
--   late             是否逾期 · received after due_by while tally was watching
--   missing          是否未报 · nothing accepted and the deadline has passed
--   not_due          是否未到期 · nothing accepted and the deadline not yet passed
--   received_at      首次收到时间 · when tally first saw an accepted version
--   received_on      收到日期 · received_at's day in the bureau's time zone
--   before_tracking  是否跟踪前 · due before tally first saw any file: received time unknown
--   modified_at      文件修改时间 · modification time of that first version's file (for reference only)
--   files            文件 · the accepted files of the period, first seen first
--   rejected_files   退回文件数 · files of the period that were rejected
with rules as (
    select
        coalesce(getvariable('submissions_deadline_day'), deadline_day) as deadline_day,
        grace_hours,
        timezone,
        coalesce(
            getvariable('submissions_today'), cast(timezone(timezone, now()) as date)
        ) as today
    from seed_submission_rules
),

units as (
    select ledger, ledger_zh, kind, unit, unit_zh, ledger_order
    from seed_ledger_units
),

versions as (
    select
        version_id, scope, ledger, period, period_start, status, path, seen_at, modified_at
    from file_versions
    where ledger is not null and period_start is not null
),

-- tally began watching the inbox when it first saw any file
tracking as (
    select min(seen_at) as began_at
    from file_versions
),

accepted_versions as (
    select *
    from versions
    where status in ('loaded', 'superseded', 'unchanged')
),

first_seen_paths as (
    select scope, ledger, period, path, min(seen_at) as first_seen
    from accepted_versions
    group by scope, ledger, period, path
),

accepted as (
    select
        v.scope,
        v.ledger,
        v.period,
        min(v.period_start) as period_start,
        min(v.seen_at) as received_at,
        arg_min(v.modified_at, v.seen_at) as modified_at
    from accepted_versions as v
    group by v.scope, v.ledger, v.period
),

accepted_files as (
    select scope, ledger, period, list(path order by first_seen, path) as files
    from first_seen_paths
    group by scope, ledger, period
),

-- whether the current version (the one rule: sql/staging/current_versions.sql) is a zero report
current_zero as (
    select scope, ledger, period, bool_or(zero_report) as zero_report
    from current_versions
    where ledger is not null
    group by scope, ledger, period
),

rejected as (
    select scope, ledger, period, count(*) as rejected_files
    from versions
    where status = 'rejected'
    group by scope, ledger, period
),

scopes as (
    select distinct scope
    from versions
),

years as (
    select unnest(range(
        min(year(versions.period_start)),
        greatest(max(year(versions.period_start)), max(year(rules.today))) + 1
    )) as year
    from versions, rules
),

expected_months as (
    select
        scopes.scope,
        units.ledger,
        years.year,
        m.month,
        strftime(make_date(years.year, m.month, 1), '%Y-%m') as period,
        make_date(years.year, m.month, 1) as period_start
    from scopes
    cross join units
    cross join years
    cross join (select unnest(range(1, 13)) as month) as m
    where units.kind <> 'snapshot'
),

snapshots as (
    select
        a.scope,
        a.ledger,
        year(a.period_start) as year,
        month(a.period_start) as month,
        a.period,
        a.period_start
    from accepted as a
    inner join units on a.ledger = units.ledger
    where units.kind = 'snapshot'
),

grid as (
    select *, true as expected from expected_months
    union all
    select *, false as expected from snapshots
),

dated as (
    select
        grid.*,
        case when grid.expected then make_date(
            grid.year + (grid.month = 12)::integer, grid.month % 12 + 1, rules.deadline_day
        ) end as deadline,
        rules.grace_hours,
        rules.timezone,
        rules.today
    from grid, rules
),

judged as (
    select
        dated.*,
        timezone(
            dated.timezone, cast(dated.deadline + 1 as timestamp) + to_hours(dated.grace_hours)
        ) as due_by,
        accepted.received_at,
        accepted.modified_at,
        accepted_files.files,
        accepted.scope is not null as submitted,
        coalesce(current_zero.zero_report, false) as zero_report,
        coalesce(rejected.rejected_files, 0)::integer as rejected_files
    from dated
    left join accepted using (scope, ledger, period)
    left join accepted_files using (scope, ledger, period)
    left join current_zero using (scope, ledger, period)
    left join rejected using (scope, ledger, period)
),

statuses as (
    select
        judged.*,
        case
            when not judged.expected then 'snapshot'
            when judged.submitted and judged.received_at < judged.due_by then 'on_time'
            when judged.submitted and judged.due_by <= tracking.began_at then 'before_tracking'
            when judged.submitted then 'late'
            when judged.deadline < judged.today then 'missing'
            else 'not_due'
        end as status
    from judged, tracking
)

select
    statuses.scope,
    units.unit,
    units.unit_zh,
    statuses.ledger,
    units.ledger_zh,
    units.ledger_order,
    statuses.year::integer as year,
    statuses.month::integer as month,
    statuses.period,
    statuses.period_start,
    statuses.expected,
    statuses.deadline,
    statuses.due_by,
    statuses.status,
    case statuses.status
        when 'on_time' then '已按时报送'
        when 'late' then '逾期报送'
        when 'before_tracking' then '已报送（开始跟踪前收到）'
        when 'missing' then '未报送'
        when 'not_due' then '未到报送期限'
        else '名录快照'
    end as status_zh,
    statuses.submitted,
    statuses.zero_report,
    case
        when statuses.status = 'on_time' then true
        when statuses.status = 'late' then false
    end as on_time,
    statuses.status = 'late' as late,
    statuses.status = 'missing' as missing,
    statuses.status = 'not_due' as not_due,
    statuses.received_at,
    cast(timezone(statuses.timezone, statuses.received_at) as date) as received_on,
    statuses.status = 'before_tracking' as before_tracking,
    statuses.modified_at,
    coalesce(statuses.files, []::varchar[]) as files,
    statuses.rejected_files
from statuses
inner join units on statuses.ledger = units.ledger
order by statuses.scope, units.ledger_order, statuses.period_start, statuses.period
