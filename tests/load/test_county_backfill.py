"""A warehouse made before rows carried their county gets it from their file's scope, once."""

from __future__ import annotations

from datetime import date

import duckdb
from ledgerfiles import write_xlsx

from flows.load.ddl import create_loader_tables
from flows.run.pipeline import run_pipeline

HEADER = ["序号", "检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "检查结果"]


def test_rows_without_a_county_get_their_scopes_county(tmp_path):
    inbox = tmp_path / "inbox"
    for folder in ("", "隆德县/"):
        write_xlsx(inbox / f"{folder}inspections" / "2024-03.xlsx", {"S": [
            HEADER, [1, date(2024, 3, 1), "日常检查", "场所1", "网吧", 2, "未发现问题"]]})
    warehouse = tmp_path / "tally.duckdb"
    run_pipeline(inbox, warehouse, checks=())
    with duckdb.connect(str(warehouse)) as con:
        con.execute("ALTER TABLE raw.inspections DROP COLUMN _county")  # as an older tally made it
        create_loader_tables(con)
        counties = con.execute(
            "SELECT v.scope, r._county FROM raw.inspections AS r JOIN file_versions AS v "
            "ON v.version_id = r._version_id ORDER BY v.scope").fetchall()
    # the bureau's own folder: its own unit (the sample county by default); a county folder: that county
    assert counties == [("", "640422"), ("隆德县", "640423")]
