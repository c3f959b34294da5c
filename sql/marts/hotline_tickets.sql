-- hotline_tickets
-- materialized: view
-- relation: 已弃用：12345 热线工单的旧名，请改用 hotline（保留一个版本后删除） · deprecated: the mart hotline under its old name, kept for one release
-- Grain: as `hotline`. The marts are named by their ledger's code since this release; this view
-- keeps queries written against the old name working until the next one.
select * from hotline
