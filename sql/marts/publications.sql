-- publications
-- relation: 违规出版物处置（每次处置一行，按处置日期计） · one row per action on unlawful publications, dated by its action date
-- Grain: one row per action on unlawful publications at one venue (收缴 or 下架 of one title),
-- dated by its action date.
-- materialized: view (a row-level mart: a view of its staging rows costs each reader
-- little, where writing it as a table cost more than all the rest of a build)
-- columns:
--   year     处置年份 · year of the action
--   quarter  处置季度 · quarter of the action
--   month    处置月份 · month of the action
with staged_publications as (
    select * from stg_publications
),

dated as (
    select
        *,
        year(action_date) as year,
        quarter(action_date) as quarter,
        month(action_date) as month
    from staged_publications
)

select * from dated
