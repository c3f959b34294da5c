-- publicity_facts
-- relation: 普法宣传指标明细（报告一(三)） · indicator rows of the legal-publicity figures (section 一(三))
-- materialized: view
-- Grain: one row per (indicator code, publicity event or WeChat post) for the legal-publicity
-- figures of report section 一(三). Sums keep only the rows that add something.
-- The import CTE is not materialized: each branch reads the mart with its own filter and
-- columns, instead of a full copy of it (DuckDB copies a CTE that is read more than once).
-- columns: see indicator_facts
with event_rows as not materialized (
    select * from publicity_events
),

post_rows as (
    select * from wechat_posts
),

event_facts as (
    select 'publicity_events' as code, 1 as amount, * from event_rows
    union all select 'posters', posters, * from event_rows where posters > 0
    union all select 'leaflets', leaflets, * from event_rows where leaflets > 0
    union all select 'banners', banners, * from event_rows where banners > 0
    union all select 'people_reached', reach, * from event_rows where reach > 0
    union all select 'theme_day_events', 1, * from event_rows where is_theme_day
),

labelled_event_facts as (
    select
        code, year, event_date as dated_on, amount, null as distinct_value,
        true as meets_condition, 'publicity_events' as ledger, theme as record_key,
        title as label, county, version_id, path, sheet, "row"
    from event_facts
),

post_facts as (
    select
        'wechat_posts' as code, year, posted_on as dated_on, 1 as amount,
        null as distinct_value, true as meets_condition, 'wechat_posts' as ledger,
        section as record_key, title as label, county, version_id, path, sheet, "row"
    from post_rows
),

all_facts as (
    select * from labelled_event_facts
    union all by name
    select * from post_facts
)

select * from all_facts
