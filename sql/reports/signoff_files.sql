-- signoff_files
-- A query, not a model: a county's file versions the lake received after the snapshot its
-- figures were signed at, read by `flows/run/signoff.py` on the county's current build (its
-- `file_versions`, `indicator_facts` and `seed_ledger_units`), with the lake attached at the
-- signed snapshot as `lake_signed`. A version is new when the signed snapshot's
-- `file_version_log` does not hold it: the lake only appends, so this is exactly what came after.
-- Parameter: $year. Only versions that bear on the year are listed: their period lies in it, or
-- some row they loaded is dated in it (a January file carrying a late December row).
-- Grain: one row per new file version, the oldest first, with the path of the version it
-- replaced (`replaced_path`; NULL when it replaced none).
with versions as (
    select * from file_versions
),

signed_log as (
    select version_id from lake_signed.file_version_log
),

units as (
    select ledger, ledger_zh from seed_ledger_units
),

dated_in_year as (
    select distinct version_id
    from indicator_facts
    where year = $year
),

new_versions as (
    select versions.*
    from versions
    anti join signed_log on versions.version_id = signed_log.version_id
),

replaced as (
    select superseded_by as version_id, string_agg(path, '、' order by version_id) as replaced_path
    from versions
    where superseded_by is not null
    group by superseded_by
)

select
    new_versions.version_id,
    new_versions.path,
    new_versions.ledger,
    units.ledger_zh,
    new_versions.period,
    new_versions.status,
    new_versions.rows_loaded,
    new_versions.seen_at,
    replaced.replaced_path,
    new_versions.reason
from new_versions
left join units on new_versions.ledger = units.ledger
left join replaced on new_versions.version_id = replaced.version_id
where year(new_versions.period_start) = $year
    or new_versions.version_id in (select version_id from dated_in_year)
order by new_versions.seen_at, new_versions.version_id
