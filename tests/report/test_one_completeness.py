"""One completeness: `tally completeness` and the report's grid say the same of every month."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import polars as pl
from ledgerfiles import write_xlsx
from received_at import received
from typer.testing import CliRunner

from flows.cli import app
from flows.report import load_report
from flows.report.completeness import completeness_summary
from flows.report.submissions import MARK_ZH, completeness
from flows.transform import indicators

INSPECTION = ["检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "检查结果"]
runner = CliRunner()


def submit(ws, rel: str, rows: list, when: datetime) -> None:
    """Write a file that tally will be said to have first seen at `when`."""
    write_xlsx(ws.path(rel), {"S": rows})
    ws.__dict__.setdefault("sent", {})[rel] = when


def inspection(day: str) -> list:
    return [day, "日常检查", "某网吧", "网吧", 2, "未发现问题"]


def four_months(ws) -> None:
    """January on time, February late, March never sent, April's deadline not reached by May 1."""
    submit(ws, "inspections/2024-01.xlsx", [INSPECTION, inspection("2024-01-09")], datetime(2024, 2, 3, 9))
    submit(ws, "inspections/2024-02.xlsx", [INSPECTION, inspection("2024-02-09")], datetime(2024, 3, 20, 9))
    submit(ws, "wechat_posts/2024-01.xlsx", [["推送日期", "标题"]], datetime(2024, 2, 1, 9))  # zero report
    ws.run()
    received(ws.warehouse, ws.sent)
    with duckdb.connect(str(ws.warehouse)) as con:
        indicators.build(con)


def test_the_report_grid_is_the_completeness_commands_statuses(ws):
    four_months(ws)
    may_first = date(2024, 5, 1)
    with duckdb.connect(str(ws.warehouse), read_only=True) as con:
        statuses = completeness(con, 2024, today=may_first)
        grid = load_report(con, 2024, today=may_first).completeness
    months = statuses.filter(pl.col("ledger") == "inspections").sort("month")
    assert months["status"].to_list()[:5] == ["on_time", "late", "missing", "not_due", "not_due"]
    row = grid.filter(pl.col("ledger") == "inspections").row(0, named=True)
    assert [row[f"m{m:02d}"] for m in range(1, 6)] == ["已报", "逾期", "未报", "未到期", "未到期"]
    assert (row["submitted"], row["late_months"], row["missing_months"], row["not_due"]) == (
        2, "2", "3", 9)
    posts = grid.filter(pl.col("ledger") == "wechat_posts").row(0, named=True)
    assert (posts["m01"], posts["m02"]) == ("零报告", "未报")
    # Every month of every ledger: the grid's mark is the command's status, word for word.
    for line in statuses.filter(pl.col("month").is_not_null()).iter_rows(named=True):
        cell = grid.filter(pl.col("ledger") == line["ledger"]).row(0, named=True)[f"m{line['month']:02d}"]
        expected = "零报告" if line["zero_report"] and line["status"] == "on_time" else MARK_ZH[line["status"]]
        assert cell == expected, line
    assert completeness_summary(grid).startswith("已报送 3 / 109 个台账期次（其中逾期 1 个），未报送 24 个")


def test_the_commands_agree_on_the_page(ws, tmp_path):
    four_months(ws)
    listed = runner.invoke(app, ["completeness", "-y", "2024", "-f", "csv", "-w", str(ws.warehouse)])
    assert listed.exit_code == 0, listed.output
    frame = pl.read_csv(listed.stdout.encode()).filter(pl.col("ledger") == "inspections").sort("month")
    assert frame["status_zh"].to_list()[:3] == ["已按时报送", "逾期报送", "未报送"]
    report = runner.invoke(app, ["report", "-y", "2024", "-f", "md", "-o", "-", "-w", str(ws.warehouse)])
    assert report.exit_code == 0, report.output
    assert "| 执法检查台账 | 执法大队 | 已报 | 逾期 | 未报 | 未报 |" in report.stdout
    # A later deadline day, given to both, moves February to on time in both.
    listed = runner.invoke(app, ["completeness", "-y", "2024", "--deadline-day", "25", "-f", "csv",
                                 "-w", str(ws.warehouse)])  # fmt: skip
    frame = pl.read_csv(listed.stdout.encode()).filter(pl.col("ledger") == "inspections").sort("month")
    assert frame["status_zh"].to_list()[:2] == ["已按时报送", "已按时报送"]
    report = runner.invoke(app, ["report", "-y", "2024", "--deadline-day", "25", "-f", "md", "-o", "-",
                                 "-w", str(ws.warehouse)])  # fmt: skip
    assert "| 执法检查台账 | 执法大队 | 已报 | 已报 | 未报 | 未报 |" in report.stdout
