-- posts
-- materialized: view
-- relation: 已弃用：微信公众号推送的旧名，请改用 wechat_posts（保留一个版本后删除） · deprecated: the mart wechat_posts under its old name, kept for one release
-- Grain: as `wechat_posts`. The marts are named by their ledger's code since this release; this view
-- keeps queries written against the old name working until the next one.
select * from wechat_posts
