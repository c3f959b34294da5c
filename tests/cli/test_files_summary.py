"""`tally files --summary`: file versions counted by ledger and status (issue 15: `make demo` ends with the figures)."""

from __future__ import annotations

import csv
import io

from ledgerfiles import write_xlsx
from typer.testing import CliRunner

from flows.cli import app

HEADER = ["检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "检查结果"]


def visit(day: str, people: object = 2) -> list:
    return [day, "日常检查", "某网吧", "网吧", people, "未发现问题"]


def test_the_summary_counts_versions_by_ledger_and_status_and_says_how_to_list_them(ws):
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"S": [HEADER, visit("2024-03-05"), visit("2024-03-06", "x")]})
    write_xlsx(ws.path("inspections/2024-04.xlsx"), {"S": [HEADER, visit("2024-04-02")]})
    write_xlsx(ws.path("inspections/2024-04_v2.xlsx"), {"S": [HEADER, visit("2024-04-02"), visit("2024-04-03")]})
    ws.path("inspections/readme.txt").write_text("not a ledger", encoding="utf-8")
    runner = CliRunner()
    w = ["--warehouse", str(ws.warehouse)]
    assert runner.invoke(app, ["run", "--inbox", str(ws.inbox), *w]).exit_code == 0

    listed = runner.invoke(app, ["files", "--summary", "--format", "csv", *w])
    assert listed.exit_code == 0, listed.output
    rows = list(csv.reader(io.StringIO(listed.stdout)))
    assert rows == [
        ["台账 ledger", "载入 loaded", "未变 unchanged", "被替代 superseded", "退回 rejected", "读取行 read",
         "隔离行 quarantined"],
        ["执法检查台账 inspections", "2", "0", "1", "1", "5", "1"],
        ["合计 total", "2", "0", "1", "1", "5", "1"],
    ]
    assert "共 4 个文件版本；逐个列出：tally files" in listed.stderr

    shown = runner.invoke(app, ["files", "--summary", *w], env={"COLUMNS": "80"})
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert len(lines) < 12  # one ledger, a total: not a row per file
    ledger_row = next(line.split() for line in lines if line.strip().startswith("执法检查台账"))
    assert ledger_row == ["执法检查台账", "2", "1", "1", "5", "1"]  # no file unchanged: no column for it
    assert all("readme.txt" not in line for line in lines)
