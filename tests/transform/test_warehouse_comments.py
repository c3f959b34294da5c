"""Every relation and column of a built warehouse has a comment, in Chinese with English beside it;
the README's relation table is the one generated from the same source."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from analystinbox import build
from rawdata import RawWarehouse

from flows import resources
from flows.load.comments import has_chinese
from flows.transform import model_docs, models, relation_table

RELATIONS_SQL = """
SELECT schema_name, table_name, 'table', comment FROM duckdb_tables() WHERE NOT temporary
UNION ALL
SELECT schema_name, view_name, 'view', comment FROM duckdb_views() WHERE NOT internal AND NOT temporary
ORDER BY ALL
"""
COLUMNS_SQL = """
SELECT schema_name, table_name, column_name, comment FROM duckdb_columns() WHERE NOT internal
ORDER BY ALL
"""


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("comments"))


def test_every_relation_and_column_of_a_built_warehouse_has_a_chinese_comment(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        relations = con.execute(RELATIONS_SQL).fetchall()
        columns = con.execute(COLUMNS_SQL).fetchall()
    assert [r for r in relations if not has_chinese(r[3])] == []
    assert [c for c in columns if not has_chinese(c[3])] == []
    names = {(schema, name) for schema, name, _, _ in relations}
    # every kind of relation is there: raw, loader, seeds, staging, marts, facts, indicators, checks
    assert {("raw", "inspections"), ("main", "file_versions"), ("main", "seed_official_calendar"),
            ("main", "stg_inspections"), ("main", "staff"), ("main", "roster"), ("main", "indicator_facts"),
            ("main", "indicators"), ("main", "check_warnings"), ("main", "model_builds"),
            ("main", "hash_key_fingerprint")} <= names  # fmt: skip
    assert len(columns) > 700


def test_comments_say_what_the_contract_and_the_model_headers_say(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        comment = dict(
            ((t, c), text) for t, c, text in con.execute(
                "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE schema_name = 'main'"
            ).fetchall()
        )
        relation = dict(con.execute(
            "SELECT view_name, comment FROM duckdb_views() WHERE NOT internal"
        ).fetchall())  # fmt: skip
    # a ledger column: the contract's header and the column's English, through raw → staging → mart
    assert comment["inspections", "inspection_date"] == "检查日期 · inspection date"
    assert comment["stg_inspections", "venue_type"] == "场所类型 · venue type"
    assert comment["cases", "party"] == "当事人（已脱敏） · party (masked)"
    # a model's own column, from its header; a column of the shared facts block
    assert comment["inspections", "is_venue_inspection"].startswith("是否实地检查")
    assert comment["market_facts", "meets_condition"] == comment["indicator_facts", "meets_condition"]
    # lineage from the load history, the old name of a mart said deprecated
    assert comment["staff", "period_start"].startswith("期间首日")
    assert relation["roster"].startswith("已弃用") and "staff" in relation["roster"]


def test_a_model_file_with_a_header_is_all_a_commented_model_needs(tmp_path: Path) -> None:
    (tmp_path / "marts").mkdir()
    (tmp_path / "marts" / "inspections_per_period.sql").write_text(
        "-- inspections_per_period\n"
        "-- relation: 每期检查数 · inspections per period\n"
        "-- Grain: one row per period.\n"
        "-- columns:\n"
        "--   inspections  检查数 · inspections in the period\n"
        "select v.period, count(*) as inspections\n"
        "from raw.inspections as i join file_versions as v on i._version_id = v.version_id\n"
        "group by v.period\n",
        encoding="utf-8",
    )
    w = RawWarehouse()
    w.version("inspections", "2024-03", [{"inspection_date": None}])
    models.build(w.con, sql_dir=tmp_path)
    assert w.con.execute(
        "SELECT comment FROM duckdb_tables() WHERE table_name = 'inspections_per_period'"
    ).fetchone()[0] == "每期检查数 · inspections per period"
    assert dict(w.con.execute(
        "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 'inspections_per_period'"
    ).fetchall()) == {
        "period": model_docs.ddl_docs.LOADER_DOCS[1].columns["period"],  # passed on from file_versions
        "inspections": "检查数 · inspections in the period",
    }  # fmt: skip


def test_header_parser_reads_the_relation_line_and_the_column_block() -> None:
    header = model_docs.parse_header(
        "-- x\n-- relation: 甲 · a\n-- Grain: one row.\n-- columns: see y\n"
        "--   n   数 · a number\n--   \"row\"  行 · the row\n-- after the block\nselect 1\n-- columns:\n--   z  不算 · not read\n"
    )
    assert header == model_docs.Header("甲 · a", {"n": "数 · a number", "row": "行 · the row"}, "y")
    assert model_docs.parse_header("select 1") == model_docs.Header(None, {}, None)


def test_the_readme_relation_table_is_the_generated_one() -> None:
    readme = (resources.CHECKOUT / "README.md").read_text(encoding="utf-8")
    assert relation_table.readme_section(readme) == relation_table.relation_table(), (
        "run `python -m flows.transform.relation_table --write` to regenerate the README's relation table"
    )
