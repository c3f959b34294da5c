-- stg_publications
-- relation: 违规出版物处置（现行版本的每一行） · staging: one row per publication action of the current versions
-- Grain: one row per publication action (违规出版物处置) row of the current version of each
-- monthly file.
with source as (
    select * from raw.publications
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
        -- ids: case numbers are written with any of 〔〕[]【】() and mean the same case
        translate(trim(source.case_no), '[]【】()（）', '〔〕〔〕〔〕〔〕') as case_no,
        -- dates
        source.action_date,
        -- categories
        source.action,
        -- counts
        source.quantity,
        -- text
        source.venue_name,
        source.title
    from source
    inner join current_versions on source._version_id = current_versions.version_id
)

select * from renamed
