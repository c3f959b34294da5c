"""Model builds: fact models as views, unchanged tables skipped, and the batched load history."""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb
from rawdata import RawWarehouse

from flows.load import warehouse
from flows.transform import models


def inspection(day, people=2):
    return {"inspection_date": day, "inspection_type": "日常检查", "venue_name": "某网吧",
            "venue_type": "网吧", "inspectors": people, "result": "未发现问题"}  # fmt: skip


def post(day):
    return {"posted_on": day, "title": "普法", "section": "普法"}


def figures(con) -> dict:
    return dict(con.execute("SELECT code, CAST(value AS DOUBLE) FROM indicators WHERE year = 2024").fetchall())


def kinds(con) -> dict:
    return dict(con.execute("SELECT table_name, table_type FROM information_schema.tables").fetchall())


def test_a_materialized_line_overrides_the_layer(tmp_path):
    (tmp_path / "indicators").mkdir()
    (tmp_path / "indicators" / "f.sql").write_text("-- f\n-- materialized: view\nselect 1 as x")
    (tmp_path / "indicators" / "g.sql").write_text("select * from f")
    found = models.discover(tmp_path)
    assert (found["f"].materialization, found["g"].materialization) == ("view", "table")
    assert models.discover()["indicator_facts"].materialization == "view"
    assert models.discover()["inspections"].materialization == "view"
    assert models.discover()["cases"].materialization == "table"


def test_a_table_that_became_a_view_is_replaced():
    con = duckdb.connect()
    con.execute("CREATE TABLE f AS SELECT 1 AS x")
    models.run_model(con, models.Model("f", "indicators", None, "-- materialized: view\nselect 2 as x"))
    assert kinds(con)["f"] == "VIEW"
    assert con.execute("SELECT x FROM f").fetchone() == (2,)


def test_unchanged_tables_are_not_rebuilt_and_a_changed_ledger_is():
    w = RawWarehouse()
    w.version("inspections", "2024-03", [inspection(date(2024, 3, 2))])
    w.version("wechat_posts", "2024-03", [post(date(2024, 3, 5))])
    models.build(w.con)
    first = figures(w.con)
    assert first["inspector_person_times"] == 2 and first["wechat_posts"] == 1
    assert kinds(w.con)["indicator_facts"] == "VIEW"

    def marker(table):  # a row only a rebuild would remove
        return w.con.execute(f"SELECT count(*) FROM {table} WHERE scope = 'marker'").fetchone()[0]

    w.version("staff", "2024-12-31", [{"name": "张某", "role": "执法"}])
    models.build(w.con)
    w.con.execute("INSERT INTO staff (scope) VALUES ('marker')")
    models.build(w.con)  # nothing changed: the mart is kept as it is
    assert marker("staff") == 1
    w.version("wechat_posts", "2024-04", [post(date(2024, 4, 5))])
    models.build(w.con)  # posts changed, the roster did not
    assert marker("staff") == 1 and figures(w.con)["wechat_posts"] == 2
    w.version("staff", "2025-12-31", [{"name": "李某", "role": "执法"}])
    models.build(w.con)
    assert marker("staff") == 0
    w.version("inspections", "2024-04", [inspection(date(2024, 4, 2), people=3)])
    models.build(w.con)
    assert figures(w.con)["inspector_person_times"] == 5


def test_reserved_version_ids_come_in_order_and_the_history_is_written_as_one_frame(tmp_path):
    con = warehouse.connect(tmp_path / "w.duckdb")
    assert warehouse.reserve_version_ids(con, 3) == [1, 2, 3]
    assert warehouse.next_version_id(con) == 4
    seen = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    base = dict(run_id="r", scope="", ledger="posts", period="2024-03", period_start=date(2024, 3, 1),
                sheet=None, sha256="s", size=1, modified_at=seen, revision=0)
    records = [
        warehouse.version_record(warehouse.Version(version_id=1, path="a", content_sha256="c1",
                                                   status="loaded", ignored_columns=("x",), **base), seen),
        warehouse.version_record(warehouse.Version(version_id=2, path="b", content_sha256="c2",
                                                   status="loaded", **base), seen),
    ]  # fmt: skip
    warehouse.record_versions(con, records)
    warehouse.supersede_many(con, [(1, 2)])
    assert con.execute(
        "SELECT version_id, status, superseded_by, ignored_columns, seen_at = ? FROM file_versions ORDER BY 1",
        [seen],
    ).fetchall() == [(1, "superseded", 2, ["x"], True), (2, "loaded", None, [], True)]
    assert warehouse.current_versions(con) == {("", "posts", "2024-03"): (2, "c2", "b")}


def test_the_writer_has_a_memory_limit_and_spills_where_told(tmp_path):
    con = warehouse.connect(tmp_path / "w.duckdb", memory_limit="256MB", temp_directory=tmp_path / "spill")
    limit, spill = con.execute(
        "SELECT current_setting('memory_limit'), current_setting('temp_directory')").fetchone()  # fmt: skip
    assert limit.startswith("244") and spill == str(tmp_path / "spill")


def test_an_incremental_update_gives_what_a_full_rebuild_gives():
    w = RawWarehouse()
    first = w.version("inspections", "2024-03", [inspection(date(2024, 3, 2)), inspection(date(2024, 3, 3))])
    w.version("wechat_posts", "2024-03", [post(date(2024, 3, 5))])
    w.version("cases", "2024-03", [{"case_no": "A1", "filed_on": date(2024, 3, 1), "party": "某公司",
                                    "party_type": "单位", "violation": "无证经营"}])
    models.build(w.con)
    w.version("inspections", "2024-04", [])  # a loaded version without rows
    again = w.version("inspections", "2024-03", [inspection(date(2024, 3, 9), people=5)])  # replaces the first
    w.con.execute("UPDATE file_versions SET status = 'superseded', superseded_by = ? WHERE version_id = ?",
                  [again, first])
    models.build(w.con)
    marts = "SELECT version_id, inspection_date, inspectors FROM inspections ORDER BY ALL"
    figures_sql = "SELECT code, year, value FROM indicators ORDER BY ALL"
    updated = (w.con.execute(marts).fetchall(), w.con.execute(figures_sql).fetchall())
    assert updated[0] == [(again, date(2024, 3, 9), 5)]
    assert figures(w.con)["inspector_person_times"] == 5
    for model in models.build_order(models.discover()):  # the same state, rebuilt from scratch
        models.run_model(w.con, model)
    assert (w.con.execute(marts).fetchall(), w.con.execute(figures_sql).fetchall()) == updated
