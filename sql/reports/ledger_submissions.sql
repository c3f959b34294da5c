-- ledger_submissions
-- A query, not a model (`flows.models` builds only staging/, marts/ and indicators/): it reads
-- the load history alone, so `tally completeness` and `tally report` can run it on any
-- warehouse, one built by an older tally too (`current_versions` is read by its rule, as a
-- subquery: the view exists only once models are built). `flows/submissions.py` runs it with the year
-- bound as `$year` and decides on time / late / missing / not yet due from it: the one
-- definition of a submission.
-- Grain: one row per (scope, ledger, period) of the year for which some version of the ledger
-- was accepted (loaded, later superseded, or the same content again). A rejected file is no
-- submission. `submitted_on` is the day (Beijing time, the connection's time zone) the first
-- accepted version was handed in (the file's modification time); `zero_report` is whether the
-- current version is a zero report (零报告: submitted, nothing happened); `rejected_files`
-- counts the rejected files of the same period.
with versions as (
    select scope, ledger, period, period_start, status, modified_at, zero_report
    from file_versions
    where ledger is not null and year(period_start) = $year
),

accepted as (
    select
        scope,
        ledger,
        period,
        min(period_start) as period_start,
        cast(min(modified_at) as date) as submitted_on
    from versions
    where status in ('loaded', 'superseded', 'unchanged')
    group by scope, ledger, period
),

-- whether the current version (the one rule: sql/staging/current_versions.sql) is a zero report
current_zero as (
    select scope, ledger, period, bool_or(zero_report) as zero_report
    from current_versions
    where ledger is not null and year(period_start) = $year
    group by scope, ledger, period
),

rejected as (
    select scope, ledger, period, count(*) as rejected_files
    from versions
    where status = 'rejected'
    group by scope, ledger, period
)

select
    coalesce(accepted.scope, rejected.scope) as scope,
    coalesce(accepted.ledger, rejected.ledger) as ledger,
    coalesce(accepted.period, rejected.period) as period,
    accepted.period_start,
    accepted.submitted_on,
    coalesce(current_zero.zero_report, false) as zero_report,
    accepted.ledger is not null as accepted,
    coalesce(rejected.rejected_files, 0) as rejected_files
from accepted
full outer join rejected
    on accepted.scope = rejected.scope
    and accepted.ledger = rejected.ledger
    and accepted.period = rejected.period
left join current_zero
    on accepted.scope = current_zero.scope
    and accepted.ledger = current_zero.ledger
    and accepted.period = current_zero.period
order by scope, ledger, period
