-- hotline_facts
-- relation: 12345 热线指标明细 · indicator rows of the hotline figures
-- materialized: view
-- Grain: one row per (indicator code, hotline ticket received in the year).
-- The import CTE is not materialized: each branch reads the mart with its own filter and
-- columns, instead of a full copy of it (DuckDB copies a CTE that is read more than once).
-- columns: see indicator_facts
with ticket_rows as not materialized (
    select * from hotline
),

ticket_facts as (
    select
        'hotline_tickets' as code, true as meets_condition, *
    from ticket_rows

    union all
    select 'hotline_on_time_rate', replied_on_time, *
    from ticket_rows

    union all
    select
        'hotline_closure_rate', coalesce(closed_on <= make_date(year, 12, 31), false), *
    from ticket_rows
),

all_facts as (
    select
        code, year, received_on as dated_on, 1 as amount, null as distinct_value, meets_condition,
        'hotline' as ledger, ticket_no as record_key, category as label,
        county, version_id, path, sheet, "row"
    from ticket_facts
)

select * from all_facts
