"""Two counties load into a lake on a real PostgreSQL; the figures built from it equal the single file's."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from ledgerfiles import write_xlsx

from flows.load.lake import Lake, attach
from flows.run.lake_run import CountyNotFound, build_from_lake, load_county
from flows.run.pipeline import run_pipeline

INSPECTIONS = ["序号", "检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "执法人员", "检查结果"]
FIGURES = "SELECT year, code, value FROM indicators WHERE value IS NOT NULL ORDER BY year, code"


def inspections(path: Path, month: int, *people: int | str) -> None:
    rows = [[i, date(2024, month, i), "日常检查", f"场所{i}", "网吧", n, "张三", "未发现问题"]
            for i, n in enumerate(people, 1)]
    write_xlsx(path, {"S": [INSPECTIONS, *rows]})


def city_inbox(root: Path) -> Path:
    """A city's inbox: 西吉县 by its name, 隆德县 by its code; a bad row quarantined in one."""
    inbox = root / "inbox"
    inspections(inbox / "西吉县" / "inspections" / "2024-03.xlsx", 3, 2, 3)
    inspections(inbox / "西吉县" / "inspections" / "2024-04.xlsx", 4, 4)
    inspections(inbox / "640423" / "inspections" / "2024-03.xlsx", 3, 5, "x", 1)
    return inbox


def figures(path: Path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(FIGURES).fetchall()


def lake_query(lake: Lake, sql: str) -> list[tuple]:
    con = duckdb.connect()
    try:
        attach(con, lake, read_only=True)
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_two_county_loads_build_the_single_files_figures(tmp_path, catalog):
    inbox = city_inbox(tmp_path)
    lake = Lake(f"ducklake:postgres:{catalog}", tmp_path / "lake" / "data")
    xiji = load_county(inbox, lake, "640422", checks=())
    longde = load_county(inbox, lake, "隆德县", checks=())
    assert (xiji.county, xiji.ingested.summary.files_loaded, xiji.ingested.summary.rows_loaded) == ("640422", 2, 3)
    assert (longde.county, longde.ingested.summary.rows_loaded, longde.ingested.summary.rows_quarantined) == (
        "640423", 2, 1)
    assert lake_query(lake, "SELECT _county, count(*) FROM lake.raw.inspections GROUP BY 1 ORDER BY 1") == [
        ("640422", 3), ("640423", 2)]
    assert lake_query(lake, "SELECT count(*) FROM lake.problems") == [(1,)]

    snapshot = build_from_lake(lake, tmp_path / "city.duckdb")
    single = tmp_path / "single.duckdb"
    run_pipeline(inbox, single, checks=())
    assert figures(tmp_path / "city.duckdb") == figures(single)
    assert dict((c, v) for _, c, v in figures(single))["inspector_person_times"] == 2 + 3 + 4 + 5 + 1
    with duckdb.connect(str(tmp_path / "city.duckdb"), read_only=True) as con:  # plain DuckDB, no extension
        assert con.execute("SELECT snapshot_id FROM lake_builds").fetchall() == [(snapshot,)]


def test_a_resubmission_supersedes_by_an_appended_event(tmp_path, catalog):
    inbox = city_inbox(tmp_path)
    lake = Lake(f"ducklake:postgres:{catalog}", tmp_path / "lake" / "data")
    load_county(inbox, lake, "640422", checks=())
    again = load_county(inbox, lake, "640422", checks=())
    assert again.ingested.summary.files_loaded == 0 and again.ingested.summary.files_unchanged == 2
    inspections(inbox / "西吉县" / "inspections" / "2024-03_v2.xlsx", 3, 7)
    load_county(inbox, lake, "640422", checks=())
    rows = lake_query(lake, "SELECT path, status FROM lake.file_versions ORDER BY version_id")
    assert rows == [("西吉县/inspections/2024-03.xlsx", "superseded"), ("西吉县/inspections/2024-04.xlsx", "loaded"),
                    ("西吉县/inspections/2024-03_v2.xlsx", "loaded")]
    assert lake_query(lake, "SELECT DISTINCT status FROM lake.file_version_log") == [("loaded",)]
    assert lake_query(lake, "SELECT count(*) FROM lake.supersessions") == [(1,)]
    build_from_lake(lake, tmp_path / "city.duckdb")
    assert dict((c, v) for _, c, v in figures(tmp_path / "city.duckdb"))["inspector_person_times"] == 7 + 4


def test_a_county_without_a_folder_is_refused_before_the_lake_is_touched(tmp_path):
    inbox = city_inbox(tmp_path)
    lake = Lake("ducklake:postgres:dbname=nowhere host=/nonexistent", tmp_path / "lake")
    with pytest.raises(CountyNotFound, match="640425"):
        load_county(inbox, lake, "彭阳县", checks=())
