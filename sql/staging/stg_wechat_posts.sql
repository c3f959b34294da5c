-- stg_wechat_posts
-- relation: 微信公众号推送（现行版本的每一行） · staging: one row per WeChat post of the current versions
-- Grain: one row per WeChat post (微信公众号推送) row of the current version of each monthly file.
with source as (
    select * from raw.wechat_posts
),

renamed as (
    select
        -- lineage
        current_versions.version_id,
        current_versions.path,
        source._sheet as sheet,
        source._row as "row",
        current_versions.scope,
        source._county as county,
        current_versions.period,
        current_versions.period_start,
        -- dates
        source.posted_on,
        -- categories
        source.section,
        -- counts
        source.reads,
        -- text
        source.title,
        source.url
    from source
    inner join current_versions on source._version_id = current_versions.version_id
)

select * from renamed
