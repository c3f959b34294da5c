"""`tally problems` lists files rejected outside ledger folders: at the inbox's root or in an unknown folder."""

from __future__ import annotations

import csv
import io

from ledgerfiles import write_xlsx
from typer.testing import CliRunner

from flows.cli import app

HEADER = ["检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "检查结果"]
ROWS = {"S": [HEADER, ["2024-03-05", "日常检查", "某网吧", "网吧", 2, "未发现问题"]]}


def listed(ws, *args: str) -> dict[str, dict]:
    result = CliRunner().invoke(app, ["problems", *args, "--format", "csv", "-w", str(ws.warehouse)])
    assert result.exit_code == 0, result.output
    return {r["文件"]: r for r in csv.DictReader(io.StringIO(result.stdout))}


def test_root_and_unknown_folder_files_are_sent_back_under_their_year(ws):
    write_xlsx(ws.path("inspections/2024-03.xlsx"), ROWS)
    write_xlsx(ws.path("2024-04.xlsx"), ROWS)  # dropped at the inbox's root
    write_xlsx(ws.path("检查台账/2024-05.xlsx"), ROWS)  # a folder that names no ledger
    write_xlsx(ws.path("杂项/2023-05.xlsx"), ROWS)  # names another year
    ws.path("说明.txt").write_text("请查收", encoding="utf-8")  # names no year at all
    ws.run()

    in_2024 = listed(ws, "--year", "2024")
    assert set(in_2024) == {"2024-04.xlsx", "检查台账/2024-05.xlsx", "说明.txt"}
    assert "文件不在台账文件夹中" in in_2024["2024-04.xlsx"]["说明"]
    assert "未知的台账文件夹「检查台账」" in in_2024["检查台账/2024-05.xlsx"]["说明"]
    assert {r["问题类型"] for r in in_2024.values()} == {"文件被退回"}

    assert set(listed(ws, "--year", "2023")) == {"杂项/2023-05.xlsx", "说明.txt"}
    assert set(listed(ws)) == {"2024-04.xlsx", "检查台账/2024-05.xlsx", "杂项/2023-05.xlsx", "说明.txt"}
    # A ledger asked for: files that name none are not that ledger's.
    assert listed(ws, "--year", "2024", "--ledger", "inspections") == {}
