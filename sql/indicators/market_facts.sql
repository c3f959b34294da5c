-- market_facts
-- relation: 文化市场执法指标明细（报告一(二)） · indicator rows of the cultural-market enforcement figures (section 一(二))
-- materialized: view
-- Grain: one row per (indicator code, ledger row) for the cultural-market enforcement figures
-- of report section 一(二): each row is a row that the figure counts, sums or (for a rate)
-- has in its denominator. `year` is the row's own date's year, whatever file carried it.
-- Columns as in every *_facts model: code, year, dated_on, amount, distinct_value,
-- meets_condition, ledger, record_key, label, version_id, path, sheet, row.
-- The import CTE is not materialized: each branch reads the mart with its own filter and
-- columns, instead of a full copy of it (DuckDB copies a CTE that is read more than once).
-- columns: see indicator_facts
with inspection_rows as not materialized (
    select * from inspections
),

patrol_rows as (
    select * from relic_patrols
),

publication_rows as (
    select * from publications
),

incident_rows as (
    select * from safety_incidents
),

inspection_facts as (
    select
        'market_campaigns' as code, year, inspection_date as dated_on, 1 as amount,
        campaign as distinct_value, true as meets_condition, campaign as record_key,
        venue_name as label, county, version_id, path, sheet, "row"
    from inspection_rows
    where inspection_type = '专项检查'

    union all
    select
        'joint_spot_checks', year, inspection_date, 1,
        spot_check_task, true, spot_check_task,
        venue_name, county, version_id, path, sheet, "row"
    from inspection_rows
    where inspection_type = '联合抽查'

    union all
    select
        'joint_spot_check_venues', year, inspection_date, 1,
        null, true, spot_check_task,
        venue_name, county, version_id, path, sheet, "row"
    from inspection_rows
    where inspection_type = '联合抽查'

    union all
    select
        'inspector_person_times', year, inspection_date, inspectors,
        null, true, null,
        venue_name, county, version_id, path, sheet, "row"
    from inspection_rows

    union all
    select
        'venue_inspections', year, inspection_date, 1,
        null, true, null,
        venue_name, county, version_id, path, sheet, "row"
    from inspection_rows
    where is_venue_inspection

    union all
    select
        'online_patrols', year, inspection_date, 1,
        null, true, null,
        venue_name, county, version_id, path, sheet, "row"
    from inspection_rows
    where inspection_type = '网上巡查'

    union all
    select
        'spot_check_disclosure_rate', year, inspection_date, 1,
        null, disclosed_on is not null, spot_check_task,
        venue_name, county, version_id, path, sheet, "row"
    from inspection_rows
    where is_spot_check
),

labelled_inspection_facts as (
    select *, 'inspections' as ledger from inspection_facts
),

patrol_facts as (
    select
        'relic_patrols' as code, year, patrol_date as dated_on, 1 as amount,
        null as distinct_value, true as meets_condition, 'relic_patrols' as ledger,
        null as record_key, site_name as label, county, version_id, path, sheet, "row"
    from patrol_rows
),

publication_facts as (
    select
        case action when '收缴' then 'books_confiscated' else 'books_removed' end as code,
        year, action_date as dated_on, quantity as amount,
        null as distinct_value, true as meets_condition, 'publications' as ledger,
        case_no as record_key, title as label, county, version_id, path, sheet, "row"
    from publication_rows
    where action in ('收缴', '下架')
),

incident_facts as (
    select
        'safety_accidents' as code, year, occurred_on as dated_on, 1 as amount,
        null as distinct_value, true as meets_condition, 'safety_incidents' as ledger,
        severity as record_key, venue_name as label, county, version_id, path, sheet, "row"
    from incident_rows
),

all_facts as (
    select * from labelled_inspection_facts
    union all by name select * from patrol_facts
    union all by name select * from publication_facts
    union all by name select * from incident_facts
)

select * from all_facts
