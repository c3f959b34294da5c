-- training_facts
-- relation: 学法培训指标明细（报告二） · indicator rows of the study and training figures (section 二)
-- materialized: view
-- Grain: one row per (indicator code, study session) for the figures of report section 二.
-- The import CTE is not materialized: each branch reads the mart with its own filter and
-- columns, instead of a full copy of it (DuckDB copies a CTE that is read more than once).
-- columns: see indicator_facts
with session_rows as not materialized (
    select * from study_sessions
),

session_facts as (
    select 'xi_law_studies' as code, * from session_rows
    where topic = '习近平法治思想' and format in ('会前学法', '专题讲座', '集中学习')

    union all
    select 'xi_law_trainings', * from session_rows
    where topic = '习近平法治思想' and format = '专题培训'

    union all
    select 'rule_of_law_meetings', * from session_rows
    where format = '法治政府建设会议'

    union all
    select 'warning_education_sessions', * from session_rows
    where format = '警示教育'
),

all_facts as (
    select
        code, year, held_on as dated_on, 1 as amount, null as distinct_value,
        true as meets_condition, 'study_sessions' as ledger, format as record_key,
        coalesce(content, topic) as label, county, version_id, path, sheet, "row"
    from session_facts
)

select * from all_facts
