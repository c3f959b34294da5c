-- officer_not_certified (warning)
-- Every officer named in an inspection should be on the staff roster with an enforcement
-- certificate valid on the inspection date (持证上岗). The roster compared is the latest
-- snapshot of the same scope on or before the inspection date, else the earliest one; names
-- are compared by their keyed hashes. A scope without any roster is not judged.
-- One warning per inspection row, naming every officer who fails.
with inspected as not materialized (
    select version_id, path, sheet, "row", scope, inspection_date, officers, officers_keys
    from stg_inspections
    where inspection_date is not null and len(officers_keys) > 0
),

snapshots as (
    select distinct scope, snapshot_date from stg_staff
),

earliest as (
    select scope, min(snapshot_date) as snapshot_date from snapshots group by scope
),

-- the roster snapshot is a function of (scope, day): find it once per day, not per officer
inspection_days as (
    select distinct scope, inspection_date from inspected
),

on_or_before as (
    select inspection_days.*, snapshots.snapshot_date
    from inspection_days
    asof left join snapshots
        on inspection_days.scope = snapshots.scope
        and inspection_days.inspection_date >= snapshots.snapshot_date
),

day_snapshots as (
    select on_or_before.* exclude (snapshot_date),
        coalesce(on_or_before.snapshot_date, earliest.snapshot_date) as snapshot_date
    from on_or_before
    inner join earliest on earliest.scope = on_or_before.scope
),

compared as (
    select
        inspected.version_id, inspected.path, inspected.sheet, inspected."row",
        inspected.scope, inspected.inspection_date,
        unnest(inspected.officers) as officer,
        unnest(inspected.officers_keys) as officer_key,
        day_snapshots.snapshot_date
    from inspected
    inner join day_snapshots
        on day_snapshots.scope = inspected.scope
        and day_snapshots.inspection_date = inspected.inspection_date
),

roster as (
    select scope, snapshot_date, name_key, max(cert_valid_until) as valid_until,
        bool_or(cert_no is not null) as has_cert
    from stg_staff
    group by scope, snapshot_date, name_key
),

judged as (
    select
        compared.*,
        roster.name_key is not null as on_roster,
        roster.valid_until,
        case
            when roster.name_key is null then compared.officer || '不在' || strftime(compared.snapshot_date, '%Y-%m-%d') || '的执法人员名录中'
            when not roster.has_cert or roster.valid_until is null then compared.officer || '在执法人员名录中没有执法证有效期'
            when roster.valid_until < compared.inspection_date then compared.officer || '的执法证有效期至' || strftime(roster.valid_until, '%Y-%m-%d') || '，检查当日已过期'
        end as reason
    from compared
    left join roster
        on roster.scope = compared.scope
        and roster.snapshot_date = compared.snapshot_date
        and roster.name_key = compared.officer_key
),

per_row as (
    select version_id, path, sheet, "row", string_agg(reason, '；' order by reason) as reasons
    from judged
    where reason is not null
    group by version_id, path, sheet, "row"
)

select
    per_row.version_id,
    per_row.path,
    per_row.sheet,
    per_row."row",
    'officers' as "column",
    '执法人员' as header,
    array_to_string(stg_inspections.officers, '、') as raw_value,
    'officer_not_certified' as rule,
    'warning' as severity,
    '第' || per_row."row" || '行「执法人员」：' || per_row.reasons || '（执法人员应持证上岗）'
        || '（原值：「' || array_to_string(stg_inspections.officers, '、') || '」）' as message
from per_row
inner join stg_inspections
    on stg_inspections.version_id = per_row.version_id and stg_inspections."row" = per_row."row"
    and stg_inspections.sheet is not distinct from per_row.sheet
