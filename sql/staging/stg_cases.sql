-- stg_cases
-- relation: 行政处罚案件（现行登记表，每案一行，取最新期间） · staging: one row per penalty case, from the latest register
-- Grain: one row per case (行政处罚案件), keyed by its case number.
-- Units resubmit the whole register every month, with more fields filled in as a case moves
-- on. For each case the row from the register with the latest period wins (then the highest
-- version); a case missing from a later register is kept from the earlier one.
-- columns:
--   period_start  登记表期间首日（每案取最新的一期） · first day of the register's month; each case keeps its row of the latest
with source as (
    select * from raw.cases
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
        -- ids: 〔〕[]【】() are written interchangeably in case numbers
        translate(trim(source.case_no), '[]【】()（）', '〔〕〔〕〔〕〔〕') as case_no,
        -- dates
        source.filed_on,
        source.decided_on,
        source.disclosed_on,
        source.closed_on,
        -- categories
        source.party_type,
        source.venue_type,
        -- amounts (yuan)
        source.fine_yuan,
        source.confiscated_yuan,
        -- flags
        source.legal_review,
        source.collective_review,
        source.recorded,
        source.reconsideration,
        source.litigation,
        -- text
        source.violation,
        -- party (masked values, with keyed hashes of the clear ones)
        source.party,
        source.party_key,
        source.party_id,
        source.party_id_key,
        source.party_id_kind,
        source.party_id_valid,
        source.phone,
        source.phone_key
    from source
    inner join current_versions on source._version_id = current_versions.version_id
),

latest_per_case as (
    select *
    from renamed
    qualify row_number() over (
        partition by county, case_no
        order by period_start desc, version_id desc, "row" desc
    ) = 1
)

select * from latest_per_case
