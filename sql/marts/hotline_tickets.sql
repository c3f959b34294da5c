-- hotline_tickets
-- Grain: one row per 12345 hotline ticket, as the latest register shows it; its year is the
-- year it was received.
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
