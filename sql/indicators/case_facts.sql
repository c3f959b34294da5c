-- case_facts
-- relation: 行政处罚指标明细 · indicator rows of the administrative-penalty figures
-- materialized: view
-- Grain: one row per (indicator code, case) for the administrative-penalty figures. Counts by
-- filing year (立案) or decision year (处罚决定), as each figure's definition says; a case filed
-- in December and closed in January counts as filed, not as closed, in its filing year.
-- The import CTE is not materialized: each branch reads the mart with its own filter and
-- columns, instead of a full copy of it (DuckDB copies a CTE that is read more than once).
-- columns: see indicator_facts
with case_rows as not materialized (
    select * from cases
),

filed_facts as (
    select
        'cases_filed' as code, filed_year as year, filed_on as dated_on, 1 as amount,
        true as meets_condition,
        case_no, violation, county, version_id, path, sheet, "row"
    from case_rows

    union all
    select
        'cases_closed', filed_year, filed_on, 1,
        true,
        case_no, violation, county, version_id, path, sheet, "row"
    from case_rows
    where closed_on <= make_date(filed_year, 12, 31)

    union all
    select
        'case_closure_rate', filed_year, filed_on, 1,
        coalesce(closed_on <= make_date(filed_year, 12, 31), false),
        case_no, violation, county, version_id, path, sheet, "row"
    from case_rows

    union all
    select
        'reconsiderations', filed_year, filed_on, 1,
        true,
        case_no, violation, county, version_id, path, sheet, "row"
    from case_rows
    where reconsideration

    union all
    select
        'litigations', filed_year, filed_on, 1,
        true,
        case_no, violation, county, version_id, path, sheet, "row"
    from case_rows
    where litigation
),

decided_facts as (
    select
        'fines_yuan' as code, decided_year as year, decided_on as dated_on,
        fine_yuan as amount, true as meets_condition,
        case_no, violation, county, version_id, path, sheet, "row"
    from case_rows
    where decided_on is not null and fine_yuan > 0

    union all
    select
        'confiscated_yuan', decided_year, decided_on,
        confiscated_yuan, true,
        case_no, violation, county, version_id, path, sheet, "row"
    from case_rows
    where decided_on is not null and confiscated_yuan > 0

    union all
    select
        'penalty_disclosures', decided_year, decided_on, 1,
        true,
        case_no, violation, county, version_id, path, sheet, "row"
    from case_rows
    where decided_on is not null and disclosed_on is not null

    union all
    select
        'disclosure_on_time_rate', decided_year, decided_on, 1,
        coalesce(disclosed_on_time, false),
        case_no, violation, county, version_id, path, sheet, "row"
    from case_rows
    where decided_on is not null and disclosed_on is not null

    union all
    select
        'legal_review_rate', decided_year, decided_on, 1,
        coalesce(legal_review, false),
        case_no, violation, county, version_id, path, sheet, "row"
    from case_rows
    where decided_on is not null

    union all
    select
        'recorded_rate', decided_year, decided_on, 1,
        coalesce(recorded, false),
        case_no, violation, county, version_id, path, sheet, "row"
    from case_rows
    where decided_on is not null
),

all_facts as (
    select
        code, year, dated_on, amount, null as distinct_value, meets_condition,
        'cases' as ledger, case_no as record_key, violation as label,
        county, version_id, path, sheet, "row"
    from (
        select * from filed_facts
        union all
        select * from decided_facts
    )
)

select * from all_facts
