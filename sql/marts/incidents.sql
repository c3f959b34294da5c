-- incidents
-- materialized: view
-- relation: 已弃用：安全生产事故的旧名，请改用 safety_incidents（保留一个版本后删除） · deprecated: the mart safety_incidents under its old name, kept for one release
-- Grain: as `safety_incidents`. The marts are named by their ledger's code since this release; this view
-- keeps queries written against the old name working until the next one.
select * from safety_incidents
