"""`tally problems` and `tally completeness`, run as a clerk's supervisor would run them."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import polars as pl
from ledgerfiles import write_xlsx
from received_at import received
from typer.testing import CliRunner

from flows.cli import app
from flows.report.submissions import completeness
from flows.transform import indicators
from flows.validate.cross_checks import run_cross_checks

INSPECTION = ["检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "检查结果"]
POST = ["推送日期", "标题", "链接"]
runner = CliRunner()


def loaded(ws, *, checks: bool = True):
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"S": [
        INSPECTION, ["2024-03-05", "巡查", "某网吧", "网吧", 2, "未发现问题"],
        ["2024-03-06", "日常检查", "=HYPERLINK(\"x\")", "网吧", 0, "未发现问题"],
        ["2024-02-06", "日常检查", "某书店", "书店", 1, "未发现问题"]]})
    write_xlsx(ws.path("wechat_posts/2024-03.xlsx"), {"S": [POST, ["2024-03-01", "标题", "=cmd|' /C calc'!A0"]]})
    ws.run()
    if checks:
        with duckdb.connect(str(ws.warehouse)) as con:
            indicators.build(con)
            run_cross_checks(con)


def tally(*args: str):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def test_problems_as_csv_neutralise_formulas(ws):
    loaded(ws)
    out = tally("problems", "--year", 2024, "--format", "csv", "-w", ws.warehouse).stdout
    frame = pl.read_csv(out.encode())
    assert frame.columns == ["台账", "文件", "工作表", "行号", "列名", "原值", "问题类型", "严重程度", "说明"]
    assert frame["行号"].to_list() == [2, 3, 4, 2]
    assert frame["问题类型"].to_list() == ["取值不在允许范围", "数值小于下限", "日期不在本月", "网址格式不对"]
    url = frame.filter(pl.col("列名") == "链接")
    assert url["原值"].to_list() == ["'=cmd|' /C calc'!A0"]


def test_problems_filter_by_severity_and_ledger(ws):
    loaded(ws)
    errors = tally("problems", "-y", 2024, "-s", "error", "-f", "csv", "-w", ws.warehouse).stdout
    assert pl.read_csv(errors.encode())["行号"].to_list() == [2, 3]
    posts = tally("problems", "-y", 2024, "-l", "wechat_posts", "-f", "csv", "-w", ws.warehouse).stdout
    assert pl.read_csv(posts.encode())["文件"].to_list() == ["wechat_posts/2024-03.xlsx"]
    bad = runner.invoke(app, ["problems", "-y", "2024", "-l", "nope", "-w", str(ws.warehouse)])
    assert bad.exit_code != 0


def test_problems_as_one_workbook_per_unit(ws, tmp_path):
    loaded(ws)
    folder = tmp_path / "out"
    tally("problems", "--year", 2024, "--format", "xlsx", "--out-dir", folder, "-w", ws.warehouse)
    books = sorted(p.name for p in folder.iterdir())
    assert books == ["2024年台账问题清单-宣传股.xlsx", "2024年台账问题清单-执法大队.xlsx"]
    listed = pl.read_excel(folder / "2024年台账问题清单-执法大队.xlsx", sheet_name="问题清单")
    assert listed["行号"].to_list() == [2, 3, 4]
    assert listed.filter(pl.col("行号") == 2)["严重程度"].item() == "错误（该行未载入，请改正后重报）"
    summary = pl.read_excel(folder / "2024年台账问题清单-执法大队.xlsx", sheet_name="汇总",
                            read_options={"header_row": 2})
    assert summary.row(0) == ("inspections/2024-03.xlsx", "执法检查台账", 2, 1)
    posts = pl.read_excel(folder / "2024年台账问题清单-宣传股.xlsx", sheet_name="问题清单")
    assert posts["原值"].to_list() == ["'=cmd|' /C calc'!A0"]


def test_problems_without_cross_checks_still_list_the_load(ws):
    loaded(ws, checks=False)
    out = tally("problems", "-y", 2024, "-f", "csv", "-w", ws.warehouse).stdout
    assert len(pl.read_csv(out.encode())) == 4
    table = tally("problems", "-y", 2024, "-w", ws.warehouse).stdout
    assert "执法大队" in table and "宣传股" in table


def submit(ws, rel: str, rows: list, when: datetime) -> None:
    """Write a file that tally will be said to have first seen at `when` (see `run_received`)."""
    write_xlsx(ws.path(rel), {"S": rows})
    ws.__dict__.setdefault("sent", {})[rel] = when


def run_received(ws) -> None:
    ws.run()
    received(ws.warehouse, ws.sent)


def test_completeness_says_submitted_late_missing_and_zero_report(ws):
    ok = ["2024-01-05", "日常检查", "某网吧", "网吧", 2, "未发现问题"]
    submit(ws, "inspections/2024-01.xlsx", [INSPECTION, ok], datetime(2024, 2, 5, 17, 0))
    submit(ws, "inspections/2024-02.xlsx", [INSPECTION], datetime(2024, 3, 8, 9, 0))  # zero report, late
    submit(ws, "inspections/2024-03.xlsx", [INSPECTION, ok], datetime(2024, 4, 2, 9, 0))
    submit(ws, "inspections/2024-03（修订）.xlsx", [INSPECTION, ok, ok], datetime(2024, 5, 20, 9, 0))
    submit(ws, "staff/执法人员名录2024-06-30.xlsx", [["姓名", "岗位"], ["张三", "执法"]], datetime(2024, 7, 1))
    submit(ws, "staff/执法人员名录2024-12-31.xlsx", [["姓名", "岗位"], ["张三", "执法"]], datetime(2025, 1, 1))
    run_received(ws)
    with duckdb.connect(str(ws.warehouse), read_only=True) as con:
        frame = completeness(con, 2024, today=date(2025, 3, 1))
        early = completeness(con, 2024, deadline_day=10, today=date(2024, 5, 1))
    inspections = frame.filter(pl.col("ledger") == "inspections").sort("month")
    assert inspections["status"].to_list()[:4] == ["on_time", "late", "on_time", "missing"]
    assert inspections["zero_report"].to_list()[:3] == [False, True, False]
    assert inspections["submitted_on"].to_list()[:2] == [date(2024, 2, 5), date(2024, 3, 8)]
    assert frame.filter(pl.col("ledger") == "staff")[["status", "latest_snapshot"]].row(0) == (
        "snapshot", date(2024, 12, 31))
    assert frame.filter(pl.col("ledger") == "hotline")["status"].unique().to_list() == ["missing"]
    late_or_not = early.filter(pl.col("ledger") == "inspections").sort("month")["status"].to_list()
    assert late_or_not[:5] == ["on_time", "on_time", "on_time", "not_due", "not_due"]


def test_completeness_command_reads_the_deadline_from_its_flag(ws):
    # tally has watched the inbox since January's file came; February's was first seen on the
    # 7th at 09:00: after the 5th and its day of grace, inside the 6th's
    submit(ws, "inspections/2024-01.xlsx", [INSPECTION], datetime(2024, 2, 3, 9, 0))
    submit(ws, "inspections/2024-02.xlsx", [INSPECTION], datetime(2024, 3, 7, 9, 0))
    run_received(ws)
    late = tally("completeness", "-y", 2024, "-f", "csv", "-w", ws.warehouse).stdout
    on_time = tally("completeness", "-y", 2024, "--deadline-day", 6, "-f", "csv", "-w", ws.warehouse).stdout
    row = {"late": pl.read_csv(late.encode()), "on_time": pl.read_csv(on_time.encode())}
    pick = (pl.col("ledger") == "inspections") & (pl.col("month") == 2)
    assert row["late"].filter(pick)["status_zh"].item() == "逾期报送"
    assert row["on_time"].filter(pick)["status_zh"].item() == "已按时报送"


def test_problems_of_every_year_in_one_workbook(ws, tmp_path):
    loaded(ws)
    out = tmp_path / "all.xlsx"
    tally("problems", "--format", "xlsx", "--output", out, "-w", ws.warehouse)
    enforcement = pl.read_excel(out, sheet_name="执法大队")
    publicity = pl.read_excel(out, sheet_name="宣传股")
    assert (enforcement.height, publicity.height) == (3, 1)
