"""The SQL models: discovery, dependency order, staging, marts and the calendar."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from rawdata import RawWarehouse

from flows.errors import TallyError
from flows.transform import models


def test_references_skip_ctes_schemas_strings_and_comments():
    sql = """
    -- reads cases, not posts
    with staged as (select * from stg_cases),
    other as (select 'from roster' as t from raw.inspections join "calendar" on true)
    select * from staged join other on true left join range(3) as r on true
    """
    assert models.references(sql) == {"stg_cases", "calendar"}


def test_every_model_is_found_with_its_layer():
    found = models.discover()
    assert found["stg_cases"].materialization == "view"
    assert found["cases"].materialization == "table"
    assert found["indicators"].layer == "indicators"
    assert {"calendar", "staff", "hotline", "safety_incidents", "wechat_posts"} <= found.keys()


def test_build_order_follows_references():
    order = [m.name for m in models.build_order(models.discover())]
    deps = models.dependencies(models.discover())
    for name, needs in deps.items():
        assert all(order.index(n) < order.index(name) for n in needs), name
    assert order.index("calendar") < order.index("cases") < order.index("case_facts")
    assert order[-1] in {"indicators", "indicator_series_monthly", "indicator_series_quarterly", "org_indicators"}


def write(folder: Path, layer: str, name: str, sql: str) -> None:
    (folder / layer).mkdir(parents=True, exist_ok=True)
    (folder / layer / f"{name}.sql").write_text(sql, encoding="utf-8")


def test_order_comes_from_the_files_not_a_list(tmp_path):
    write(tmp_path, "marts", "b", "select * from a")
    write(tmp_path, "marts", "a", "select * from stg_x")
    write(tmp_path, "staging", "stg_x", "select 1 as one")
    assert [m.name for m in models.build_order(models.discover(tmp_path))] == ["stg_x", "a", "b"]


def test_a_cycle_is_an_error(tmp_path):
    write(tmp_path, "marts", "a", "select * from b")
    write(tmp_path, "marts", "b", "select * from a")
    with pytest.raises(TallyError, match="循环"):
        models.build_order(models.discover(tmp_path))


def test_official_calendar_seed():
    frame = models.official_calendar_frame()
    days = dict(zip(frame["day"], frame["is_working_day"], strict=True))
    assert days[date(2024, 10, 1)] is False  # National Day
    assert days[date(2024, 10, 12)] is True  # a Saturday made a working day
    assert days[date(2024, 10, 13)] is False
    assert days[date(2025, 1, 1)] is False


def inspection(day, **extra):
    return {"inspection_date": day, "inspection_type": "日常检查", "venue_name": "某网吧",
            "venue_type": "网吧", "inspectors": 2, "result": "未发现问题", **extra}  # fmt: skip


def case(no, filed, **extra):
    return {"case_no": no, "filed_on": filed, "party": "王某某", "party_type": "个人",
            "violation": "擅自从事经营活动", **extra}  # fmt: skip


@pytest.fixture(scope="module")
def built():
    w = RawWarehouse()
    w.version("inspections", "2024-03", [inspection(date(2024, 3, 1))], status="superseded")
    w.version(
        "inspections", "2024-03", [inspection(date(2024, 3, 2)), inspection(date(2024, 3, 3))]
    )
    w.version("cases", "2024-09", [
        case("西文旅罚[2024]8号", date(2024, 9, 2)),
        case("西文旅罚〔2024〕9号", date(2024, 3, 1), decided_on=date(2024, 3, 10)),
    ])  # fmt: skip
    w.version("cases", "2024-10", [
        case("西文旅罚【2024】8号", date(2024, 9, 2), decided_on=date(2024, 9, 27)),
        case("西文旅罚〔2024〕10号", date(2024, 12, 20), decided_on=date(2024, 12, 27)),
    ])  # fmt: skip
    w.version("staff", "2024", [{"name": "张某", "role": "执法"}, {"name": "李某", "role": "执法"}])
    w.version("staff", "2024-12-31", [{"name": "张某", "role": "执法"}])
    w.version("staff", "2023-12-31", [{"name": "王某", "role": "综合"}])
    names = models.build(w.con)
    return w, names


def test_build_returns_every_model_and_creates_relations(built):
    w, names = built
    assert set(names) == set(models.discover())
    kinds = dict(w.con.execute(
        "SELECT table_name, table_type FROM information_schema.tables").fetchall())  # fmt: skip
    assert kinds["stg_inspections"] == "VIEW"
    assert kinds["inspections"] == "VIEW"
    assert kinds["cases"] == "BASE TABLE"
    assert kinds["indicators"] == "BASE TABLE"


def test_build_twice_on_one_connection(built):
    w, names = built
    assert models.build(w.con) == names


def test_staging_reads_current_versions_with_lineage(built):
    w, _ = built
    rows = w.con.execute(
        'SELECT inspection_date, version_id, path, sheet, "row" FROM stg_inspections ORDER BY 1'
    ).fetchall()
    assert [r[0] for r in rows] == [date(2024, 3, 2), date(2024, 3, 3)]
    assert rows[0][1:] == (2, w.path(2), "Sheet1", 4)


def test_register_is_one_row_per_case_across_bracket_styles(built):
    w, _ = built
    rows = w.con.execute(
        "SELECT case_no, decided_on, version_id FROM stg_cases ORDER BY case_no"
    ).fetchall()
    assert rows == [
        ("西文旅罚〔2024〕10号", date(2024, 12, 27), 4),
        ("西文旅罚〔2024〕8号", date(2024, 9, 27), 4),
        ("西文旅罚〔2024〕9号", date(2024, 3, 10), 3),
    ]


def test_disclosure_deadline_is_the_7th_working_day_after_the_decision(built):
    w, _ = built
    deadlines = dict(w.con.execute("SELECT case_no, disclosure_deadline FROM cases").fetchall())
    # Friday 27 September: 29 Sep (make-up), 30 Sep, 8–11 Oct, 12 Oct (make-up)
    assert deadlines["西文旅罚〔2024〕8号"] == date(2024, 10, 12)
    # a Sunday decision: the count starts on Monday
    assert deadlines["西文旅罚〔2024〕9号"] == date(2024, 3, 19)
    # late December: 30, 31 Dec, then 1 January is a holiday
    assert deadlines["西文旅罚〔2024〕10号"] == date(2025, 1, 8)


def test_calendar_spans_the_years_with_data_and_the_next(built):
    w, _ = built
    first, last, official = w.con.execute(
        "SELECT min(day), max(day), bool_and(is_official) FROM calendar").fetchone()  # fmt: skip
    assert (first, last, official) == (date(2023, 1, 1), date(2025, 12, 31), True)


def test_roster_keeps_the_latest_snapshot_of_each_year(built):
    w, _ = built
    rows = w.con.execute("SELECT year, name FROM staff ORDER BY year, name").fetchall()
    assert rows == [(2023, "王某"), (2024, "张某")]
