-- roster
-- materialized: view
-- relation: 已弃用：执法人员名录的旧名，请改用 staff（保留一个版本后删除） · deprecated: the mart staff under its old name, kept for one release
-- Grain: as `staff`. The marts are named by their ledger's code since this release; this view
-- keeps queries written against the old name working until the next one.
select * from staff
