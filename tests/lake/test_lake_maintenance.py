"""Lake upkeep: Parquet files that no snapshot knows (what a writer killed before its commit leaves) are deleted."""

from __future__ import annotations

import duckdb
from test_lake_load import city_inbox

from flows.load.lake import Lake, attach, maintain
from flows.run.lake_run import load_county


def parquet(lake: Lake) -> set[str]:
    return {p.name for p in lake.data_path.rglob("*.parquet")}


def test_orphans_are_deleted_once_old_enough_and_loaded_data_stays(tmp_path, catalog):
    inbox = city_inbox(tmp_path)
    lake = Lake(f"ducklake:postgres:{catalog}", tmp_path / "lake" / "data")
    load_county(inbox, lake, "640422", checks=())
    con = duckdb.connect()
    try:
        attach(con, lake)
        con.execute("INSERT INTO lake.problems SELECT i, 'p.xlsx', NULL, i, 'c', 'h', 'v', 'r', 'warning', 'm' "
                    "FROM range(50000) t(i)")  # large enough to be written as Parquet, not inlined
        kept = parquet(lake)
        assert kept
        # A file no snapshot knows, as a killed writer leaves it in the lake's folder.
        stray = lake.data_path / "main" / "problems" / "ducklake-killed-writer.parquet"
        con.execute(f"COPY (SELECT 1 AS x) TO '{stray}' (FORMAT parquet)")
        assert maintain(con)["orphans"] == 0 and stray.exists()  # younger than a day: a load may be writing it
        assert maintain(con, orphans_older_than_s=0)["orphans"] == 1
        assert not stray.exists() and parquet(lake) == kept
        assert con.execute("SELECT count(*) FROM lake.problems").fetchone()[0] == 50000
        assert con.execute("SELECT count(*) FROM lake.raw.inspections").fetchone()[0] == 3
    finally:
        con.close()
