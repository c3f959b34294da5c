-- wechat_posts
-- relation: 微信公众号推送（每篇一行，按推送日期计） · one row per post on the bureau's WeChat account, dated by its posting date
-- Grain: one row per post on the bureau's WeChat official account (微信公众号), dated by its
-- posting date.
-- materialized: view (a row-level mart: a view of its staging rows costs each reader
-- little, where writing it as a table cost more than all the rest of a build)
-- columns:
--   year     推送年份 · year posted
--   quarter  推送季度 · quarter posted
--   month    推送月份 · month posted
with staged_posts as (
    select * from stg_wechat_posts
),

dated as (
    select
        *,
        year(posted_on) as year,
        quarter(posted_on) as quarter,
        month(posted_on) as month
    from staged_posts
)

select * from dated
