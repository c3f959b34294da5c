-- case_not_found (warning)
-- A publications (违规出版物处置) row that cites a case number should cite one that the cases
-- register of the same scope holds. Case numbers compare whatever brackets they use.
with cited as (
    select
        version_id, path, sheet, "row", scope, case_no,
        translate(regexp_replace(case_no, '\s+', '', 'g'), '[]【】()（）', '〔〕〔〕〔〕〔〕') as wanted
    from stg_publications
    where nullif(trim(case_no), '') is not null
),

register as (
    select distinct scope,
        translate(regexp_replace(case_no, '\s+', '', 'g'), '[]【】()（）', '〔〕〔〕〔〕〔〕') as case_no
    from stg_cases
)

select
    version_id,
    path,
    sheet,
    "row",
    'case_no' as "column",
    '关联案件编号' as header,
    cited.case_no as raw_value,
    'case_not_found' as rule,
    'warning' as severity,
    '第' || "row" || '行「关联案件编号」：案件台账中没有这个案件编号（原值：「' || cited.case_no || '」）' as message
from cited
where not exists (
    select 1 from register where register.scope = cited.scope and register.case_no = cited.wanted
)
