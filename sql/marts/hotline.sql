-- hotline
-- relation: 12345 热线工单（每单一行，取最新登记表；按受理日期计年） · one row per 12345 hotline ticket, as the latest register shows it
-- Grain: one row per 12345 hotline ticket, as the latest register shows it; its year is the
-- year it was received.
-- columns:
--   year             受理年份 · year received
--   quarter          受理季度 · quarter received
--   month            受理月份 · month received
--   replied_on_time  是否按时回复 · replied on or before the due date
with staged_tickets as (
    select * from stg_hotline
),

flagged as (
    select
        *,
        year(received_on) as year,
        quarter(received_on) as quarter,
        month(received_on) as month,
        coalesce(replied_on <= due_on, false) as replied_on_time
    from staged_tickets
)

select * from flagged
