"""The run summary counts files, not sheets: a yearly workbook of month sheets is one file."""

from __future__ import annotations

from ledgerfiles import write_xlsx

from flows.load.loader import RunSummary
from flows.run.results import add_summaries

HEADER = ["检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "检查结果"]


def month(m: int) -> list:
    return [HEADER, [f"2024-{m:02d}-05", "日常检查", "某网吧", "网吧", 2, "未发现问题"]]


def test_a_workbook_of_three_month_sheets_is_one_file_on_a_first_run(ws):
    write_xlsx(ws.path("inspections/2024.xlsx"), {"1月": month(1), "2月": month(2), "3月": month(3)})
    write_xlsx(ws.path("inspections/2024-04.xlsx"), {"S": month(4)})
    summary = ws.run()
    assert (summary.files_loaded, summary.rows_loaded) == (2, 4)
    # Each month sheet is still its own version in the load history.
    assert ws.query("SELECT count(*) FROM file_versions WHERE status = 'loaded'") == [(4,)]


def test_a_workbook_whose_sheets_are_all_rejected_is_one_rejected_file(ws):
    bad = [["名称", "备注"], ["x", "y"]]  # no header of the ledger on any month sheet
    write_xlsx(ws.path("inspections/2024.xlsx"), {"1月": bad, "2月": bad})
    summary = ws.run()
    assert (summary.files_loaded, summary.files_rejected) == (0, 1)
    assert len(summary.rejected) == 2  # each sheet's reason is still listed


def test_summaries_added_across_batches_count_a_file_once():
    a, b = RunSummary(run_id="r"), RunSummary(run_id="r")
    a.count_file("loaded", "inspections/2024.xlsx")
    a.count_file("loaded", "inspections/2024.xlsx")
    b.count_file("loaded", "inspections/2024.xlsx")
    b.count_file("loaded", "cases/2024-01.xlsx")
    b.count_file("rejected", "cases/2024-02.xlsx")
    total = add_summaries(a, b)
    assert (a.files_loaded, b.files_loaded) == (1, 2)
    assert (total.files_loaded, total.files_rejected) == (2, 1)
