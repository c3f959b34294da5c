"""The comments of the SQL models, read from each model file's header, and of every relation the
build creates; the README's relation table is generated from the same source (`relation_table.py`).

A model says what it is in the comment block at the top of its file, beside its grain:

    -- inspections
    -- relation: 执法检查（每次检查一行） · inspections: one row per inspection
    -- Grain: ...
    -- columns:
    --   year             检查年份 · the year of inspection_date
    --   is_spot_check    是否抽查 · a 双随机抽查 or 联合抽查

`relation:` is one line, the relation's comment (Chinese, ` · `, English). `columns:` starts a
block of one line per column the model itself derives (its name, two spaces or more, its
comment); `columns: see indicator_facts` takes another model's block first, for models that
share their columns. A column the model passes on from what it reads (`select *`, `source.x`)
needs no line: it keeps the comment of the same column in the first relation the model reads
that has one (a ledger's columns come from the contract through `raw.<ledger>`). Failing both, a
column declared by any model keeps that comment (one name, one meaning across the warehouse).
A model without a `relation:` line (a bureau's own) is named by its grain line.

So adding a commented model is adding its file. `tests/transform/test_warehouse_comments.py`
builds a warehouse and fails on any relation or column without a Chinese comment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from flows.load import ddl_docs
from flows.load.comments import RelationDoc, apply, bilingual
from flows.validate.cross_checks import CHECK_TABLE, CHECK_TABLE_DOC

_RELATION_LINE = re.compile(r"^--\s*relation:\s*(\S.*?)\s*$", re.M)
_COLUMNS_LINE = re.compile(r"^--\s*columns:\s*(?:see\s+([A-Za-z_]\w*))?\s*$", re.I)
_COLUMN_ENTRY = re.compile(r"^--\s{2,}\"?([A-Za-z_]\w*)\"?\s{2,}(\S.*?)\s*$")
_GRAIN = re.compile(r"^--\s*Grain:\s*(.+)$", re.M)
_FROM = re.compile(r'\b(?:from|join)\s+(?:(raw)\s*\.\s*)?"?([A-Za-z_]\w*)\b"?(?!\s*\()', re.I)
_SQL_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_CTE = re.compile(
    r'(?:\bwith|,)\s+"?([A-Za-z_]\w*)"?\s+as\s*(?:not\s+)?(?:materialized\s*)?\(', re.I
)


@dataclass(frozen=True)
class Header:
    """What a model file's header says of it: its relation comment and its columns' comments."""

    comment: str | None
    columns: dict[str, str]
    see: str | None  # another model whose column block comes first


def parse_header(sql: str) -> Header:
    """Read the `relation:` line and the `columns:` block of a model's SQL text.

    Only the leading comment lines are read. Raises ValueError on a `columns:` line followed
    by a line that is neither a column entry nor the end of the header's comments.
    """
    lines = []
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        lines.append(line)
    found = _RELATION_LINE.search("\n".join(lines))
    columns: dict[str, str] = {}
    see = None
    block = False
    for line in lines:
        if match := _COLUMNS_LINE.match(line):
            block, see = True, match.group(1)
            continue
        if block:
            entry = _COLUMN_ENTRY.match(line)
            if entry is None:
                block = False  # the block ends at the first line that is not an entry
                continue
            columns[entry.group(1)] = entry.group(2)
    return Header(found.group(1) if found else None, columns, see)


def read_order(sql: str) -> list[tuple[str, str]]:
    """Return the relations a SQL text reads, (schema, name), in the order it first names them."""
    code = _SQL_COMMENT.sub(" ", sql)
    ctes = {m.group(1).lower() for m in _CTE.finditer(code)}
    seen: list[tuple[str, str]] = []
    for match in _FROM.finditer(code):
        schema, name = ("raw" if match.group(1) else "main"), match.group(2).lower()
        if (schema == "main" and name in ctes) or (schema, name) in seen:
            continue
        seen.append((schema, name))
    return seen


# The tables the builder writes from Python, beside the models: the seeds and the build record.
BUILDER_DOCS = (
    RelationDoc("main", "seed_official_calendar", bilingual(
        "官方工作日历（法定节假日与调休，来自 chinese_calendar）",
        "the official calendar: statutory holidays and make-up working days, from chinese_calendar"), {
        "day": bilingual("日期", "the day"),
        "is_working_day": bilingual("是否工作日", "an official working day"),
        "is_makeup_working_day": bilingual("是否调休上班日", "a weekend day made a working day (调休上班)"),
        "holiday_name": bilingual("节假日名称", "the statutory holiday it belongs to, in Chinese"),
    }),
    RelationDoc("main", "seed_indicator_catalog", bilingual(
        "指标目录（来自合同 indicators.toml）", "the indicator catalog, from the contract's indicators.toml"), {
        "code": bilingual("指标代码", "the indicator's code"),
        "sort_order": bilingual("报告中的顺序", "its order in the report"),
        "section": bilingual("报告章节", "the report's section: 一(二), 一(三), …"),
        "name_zh": bilingual("中文名称", "the Chinese name"),
        "name_en": bilingual("英文名称", "the English name"),
        "unit": bilingual("单位", "the unit: 人次, 件, 元, % …"),
        "model": bilingual("计算它的模型", "the *_facts model that holds its rows"),
        "aggregation": bilingual("汇总方式", "count | sum | distinct | rate"),
        "series": bilingual("是否按月累计", "whether it adds up over months (monthly and quarterly series)"),
        "needs_snapshot": bilingual("是否需要名录", "whether it needs a staff roster snapshot of the year"),
        "definition_zh": bilingual("中文定义", "the definition in Chinese"),
        "definition_en": bilingual("英文定义", "the definition in English"),
        "qualifier": bilingual("报告写法的修饰（约、余）", "how the report qualifies it: 约, 余"),
        "in_wan": bilingual("是否以万为单位印出", "printed in 万 (ten thousands)"),
        "step": bilingual("印出时的取整步长", "the rounding step of the printed figure"),
        "published_2024": bilingual("2024 年报告所印", "as the 2024 report printed it"),
    }),
    RelationDoc("main", "seed_submission_rules", bilingual(
        "报送期限规则", "the deadline rule submissions reads (from tally.toml / contract.toml)"), {
        "deadline_day": bilingual("次月截止日", "the day of the following month a month's ledger is due (1-28)"),
        "grace_hours": bilingual(
            "宽限小时数", "hours after the deadline day's end a first sighting still counts on time"),
        "timezone": bilingual("时区", "the bureau's time zone (IANA) the deadline day is counted in"),
    }),
    RelationDoc("main", "seed_ledger_units", bilingual(
        "台账与填报单位", "each ledger of the contract with its keeping unit"), {
        "ledger": bilingual("台账代码", "ledger code"),
        "ledger_zh": bilingual("台账名称", "ledger name"),
        "kind": bilingual("台账类型", "period | register | snapshot"),
        "unit": bilingual("填报单位代码", "code of the keeping unit"),
        "unit_zh": bilingual("填报单位", "the keeping unit"),
        "ledger_order": bilingual("台账顺序", "the contract's order of the ledgers"),
    }),
    RelationDoc("main", "seed_org_units", bilingual(
        "单位（自治区、市、县区，来自合同 org_units.toml）",
        "the org units: province, cities, counties, from the contract's org_units.toml"), {
        "code": bilingual("行政区划代码", "the GB/T 2260 code"),
        "name_zh": bilingual("单位名称", "the official name"),
        "level": bilingual("级别", "province | city | county"),
        "parent": bilingual("上级单位代码", "the code of the unit one level up (none for the province)"),
        "unit_order": bilingual("顺序", "the order of org_units.toml"),
    }),
    RelationDoc("main", "seed_org_members", bilingual(
        "单位所辖县区（县区也辖其自身）", "which counties each org unit holds (a county holds itself)"), {
        "org": bilingual("单位代码", "the org unit's code"),
        "county": bilingual("所辖县区代码", "the code of a county at or under it"),
    }),
    RelationDoc("main", "model_builds", bilingual(
        "模型构建记录（每个模型上次构建时的指纹，未变则不重建；交叉核对、台账同此）",
        "one row per model: the fingerprints it was last built with (unchanged inputs: not rebuilt); "
        "also one per cross-check (checks/<name>: unchanged inputs, its warnings kept) and per ledger "
        "(ledgers/<code>: its current versions as the last build saw them)"), {
        "model": bilingual("模型名", "the model (relation) name, checks/<name> or ledgers/<code>"),
        "fingerprint": bilingual("指纹", "fingerprint of its SQL, its inputs and its ledgers' current versions"),
        "definition": bilingual("定义指纹", "fingerprint of its SQL and inputs alone, for an incremental update"),
        "shown": bilingual("读者所见指纹",
                           "the fingerprint its readers see (its rows' for a content-fingerprinted table); "
                           "what the cross-checks compare"),
    }),
)


def model_docs(models: Iterable, known: dict[tuple[str, str], RelationDoc],
               columns_of: dict[tuple[str, str], list[str]]) -> list[RelationDoc]:
    """Return the comments of the models (in build order), resolving each column's comment.

    `known` holds the comments of what the models read that is not a model (the loader's tables,
    the raw tables, the seeds); `columns_of` the columns each built relation has, from the
    catalog. A column's comment is its model's own line, else the line of the model its header
    sees, else the same column's comment in the first relation it reads that has one, else the
    first model line anywhere that declares the name, else the first table written from Python
    that has the column (`row`: the spreadsheet's row number).
    """
    models = list(models)
    headers = {m.name: parse_header(m.sql) for m in models}
    glossary: dict[str, str] = {}
    for columns in [*(h.columns for h in headers.values()), *(d.columns for d in known.values())]:
        for name, text in columns.items():
            glossary.setdefault(name, text)
    resolved = dict(known)
    docs: list[RelationDoc] = []
    for model in models:
        header = headers[model.name]
        own = dict(headers[header.see].columns) if header.see in headers else {}
        own.update(header.columns)
        upstream = [resolved[r] for r in read_order(model.sql) if r in resolved]
        columns: dict[str, str] = {}
        for column in columns_of.get(("main", model.name), list(own)):
            text = own.get(column) or next(
                (u.columns[column] for u in upstream if column in u.columns), None
            ) or glossary.get(column)
            if text:
                columns[column] = text
        doc = RelationDoc("main", model.name, header.comment or fallback_comment(model), columns)
        resolved[("main", model.name)] = doc
        docs.append(doc)
    return docs


def fallback_comment(model) -> str:
    """A comment for a model whose file has no `relation:` line: its name and its grain."""
    grain = _GRAIN.search(model.sql)
    return bilingual(f"模型 {model.name}", grain.group(1).strip() if grain else model.name)


CHECK_DOCS = RelationDoc("main", CHECK_TABLE, *CHECK_TABLE_DOC)


def fixed_docs() -> list[RelationDoc]:
    """Return the comments of the relations written from Python: loader, seeds, builds, checks."""
    return [*ddl_docs.loader_docs(), *BUILDER_DOCS, CHECK_DOCS]


def catalog_columns(con) -> dict[tuple[str, str], list[str]]:
    """Return the columns of every relation of the connection's database, in order."""
    found: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in con.execute(
        "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
        "WHERE database_name = current_database() AND NOT internal ORDER BY column_index"
    ).fetchall():
        found.setdefault((schema, table), []).append(column)
    return found


def warehouse_docs(con, models: Iterable) -> list[RelationDoc]:
    """Return the comments of every relation the build creates, for the warehouse on con."""
    fixed = fixed_docs()
    known = {(d.schema, d.name): d for d in fixed}
    return [*fixed, *model_docs(models, known, catalog_columns(con))]


def comment_warehouse(con, models: Iterable) -> int:
    """Write every relation's and column's comment on con; return the statements it took."""
    return apply(con, warehouse_docs(con, models))
