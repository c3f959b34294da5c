-- roster_facts
-- relation: 执法人员名录指标明细 · indicator rows of the roster figures
-- materialized: view
-- Grain: one row per (indicator code, person on the latest roster snapshot of the year).
-- `year` is the snapshot's year and `dated_on` its date.
-- The import CTE is not materialized: each branch reads the mart with its own filter and
-- columns, instead of a full copy of it (DuckDB copies a CTE that is read more than once).
-- columns: see indicator_facts
with roster_rows as not materialized (
    select * from staff
),

person_facts as (
    select 'certified_officer_rate' as code, certified_at_year_end as meets_condition, *
    from roster_rows
    where role = '执法'

    union all
    select 'qualified_legal_reviewers', true, *
    from roster_rows
    where role = '法制审核' and bar_qualified
),

all_facts as (
    select
        code, year, snapshot_date as dated_on, 1 as amount, null as distinct_value,
        meets_condition, 'staff' as ledger, cert_no as record_key, name as label,
        county, version_id, path, sheet, "row"
    from person_facts
)

select * from all_facts
