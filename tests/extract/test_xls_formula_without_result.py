"""An .xls formula saved without its computed result (xlwt writes every formula so) goes back
with the reason the .xlsx path gives, never as a blank; an .xls whose writer calculated keeps
a formula's "" as the blank Excel shows."""

from __future__ import annotations

import struct
from pathlib import Path

import duckdb
import xlwt

from flows.extract import xls_reader
from flows.report.problem_report import problem_rows
from flows.run import pipeline

HEADER = ["序号", "检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "执法人员", "检查结果"]
REASON = "第3行「出动人次」：公式没有计算结果（文件由不计算公式的程序保存），请在 Excel/WPS 中打开、保存后重新提交"


def write_with_xlwt(path: Path, rows: list[list]) -> Path:
    """Rows to an .xls by xlwt; a value starting with "=" is written as a formula (no result)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("3月")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, str) and value.startswith("="):
                ws.write(r, c, xlwt.Formula(value[1:]))
            elif value is not None:
                ws.write(r, c, value)
    wb.save(str(path))
    return path


def visit(n: int, people) -> list:
    return [n, f"2024-03-0{n}", "日常检查", f"场所{n}", "网吧", people, "张三", "未发现问题"]


def test_an_xlwt_formula_cell_goes_back_naming_file_sheet_row_and_header(tmp_path: Path) -> None:
    inbox, warehouse = tmp_path / "inbox", tmp_path / "wh" / "tally.duckdb"
    write_with_xlwt(inbox / "inspections" / "2024-03.xls", [HEADER, visit(1, 2), visit(2, "=F2+1"), visit(3, 4)])
    pipeline.run_pipeline(inbox, warehouse, checks=(), reader_memory_mb=1024, file_timeout_s=120)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        listed = problem_rows(con, 2024)
        loaded = con.execute("SELECT value FROM indicators WHERE year = 2024 "
                             "AND code = 'inspector_person_times'").fetchone()[0]
    rows = listed.select("path", "sheet", "row", "header", "raw_value", "rule", "message").rows()
    assert rows == [("inspections/2024-03.xls", "3月", 3, "出动人次", "", "formula_no_result", REASON)]
    assert float(loaded) == 6  # rows 2 and 4 load; row 3 never loads as a blank or 0


def test_the_reader_marks_each_formula_and_blanks_it(tmp_path: Path) -> None:
    path = write_with_xlwt(tmp_path / "a.xls", [["a", 2, "=B1*3"], [None, None, '=IF(B1>1,"x","")']])
    grid = xls_reader.sheet_grid(xls_reader.open_book(path), 0, "3月")
    assert grid.frame.rows() == [(1, "a", "2", None), (2, None, None, None)]
    assert grid.marks.rows() == [(1, 2, "no_result", "", "=B1*3.0"), (2, 2, "no_result", "", '=IF(B1>1.0,"x","")')]


def test_a_calculated_empty_text_stays_blank_beside_a_calculated_number(tmp_path: Path) -> None:
    # As Excel saves it: the number formula holds 6, the IF formula holds "" (what Excel shows).
    path = write_with_xlwt(tmp_path / "a.xls", [["a", 2, "=B1*3"], [None, None, '=IF(B1>9,"x","")']])
    data = bytearray(path.read_bytes())
    at = find_formula_record(bytes(data), row=0, col=2)
    data[at + 4 + 6:at + 4 + 14] = struct.pack("<d", 6.0)  # the cached result, after row, col and XF
    path.write_bytes(bytes(data))
    grid = xls_reader.sheet_grid(xls_reader.open_book(path), 0, "3月")
    assert grid.frame.rows() == [(1, "a", "2", "6"), (2, None, None, "")]
    assert grid.marks.height == 0


def find_formula_record(data: bytes, row: int, col: int) -> int:
    """The offset of a cell's FORMULA record in the bytes of an xlwt file (a small file's stream is contiguous)."""
    at = 0
    while (at := data.find(b"\x06\x00", at)) >= 0:
        length, r, c = struct.unpack_from("<HHH", data, at + 2)
        if (r, c) == (row, col) and 20 <= length < 300:
            return at
        at += 1
    raise AssertionError("no FORMULA record")
