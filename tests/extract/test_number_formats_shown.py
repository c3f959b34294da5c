"""A number cell whose format pads, scales or hides it loads as the text Excel shows.

A ticket number 123 formatted `000000000000` shows as `000000000123`; 3 formatted `0%` shows as
`300%`; any value formatted `;;;` shows as nothing. calamine gives the value; the reader puts the
shown text in its place (`flows/extract/number_formats.py`). A number that a rounding or scaling
format shows as another number (1234.5 formatted `#,##0` shows `1,235`) goes back naming both.
The same holds for an .xls (xlrd gives the value and the cell's format).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import xlsxwriter
import xlwt
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.extract import readers
from flows.extract.number_formats import Shown, classify

HOTLINE = ["工单编号", "受理日期", "诉求类型", "办理时限"]
INSPECTIONS = ["检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "执法人员", "检查结果"]


@pytest.mark.parametrize(("code", "shown"), [
    ("000000000000", Shown("padded", 12)),
    ('"GD"0000', Shown("padded", 4, "GD")),
    ('0000"号"', Shown("padded", 4, "", "号")),
    ("\\A000", Shown("padded", 3, "A")),
    ("0%", Shown("percent", 0)),
    ("0.00%", Shown("percent", 2)),
    (";;;", Shown("hidden")),
    ("0", Shown("rounded", 0)), ("0.00", Shown("rounded", 2)), ("#,##0", Shown("rounded", 0, grouped=True)),
    ("00.0", Shown("rounded", 1, whole=2)), ("#,##0,", Shown("affixed", 3)),
    ('0"人"', Shown("rounded", 0, suffix="人")), ("[$¥-804]#,##0.00", Shown("rounded", 2, "¥", grouped=True)),
    ('_ * #,##0.00_ ;_ * -#,##0.00_ ;_ * "-"??_ ;_ @_ ', Shown("rounded", 2, grouped=True)),
    ("0.0_);[Red](0.0)", Shown("rounded", 1)),
    ("yyyy-mm-dd", None), ("h:mm", None), ("mm:ss.0", None), ("@", None), ("General", None),
    ("0.00E+00", None), ("# ?/?", None), ("[>=100]0;0.0", None), ("0.00%;[Red]-0.00%", None),
])  # fmt: skip
def test_format_codes_that_show_a_number_otherwise(code, shown):
    assert classify(code) == shown


@settings(deadline=None, max_examples=200)
@given(st.integers(min_value=-(10**12), max_value=10**12), st.integers(min_value=2, max_value=18))
def test_padded_whole_numbers_keep_their_leading_zeros(value, zeros):
    text = classify("0" * zeros).text(str(value))
    assert text == ("-" if value < 0 else "") + str(abs(value)).zfill(zeros)
    assert int(text) == value


@settings(deadline=None, max_examples=200)
@given(st.decimals(min_value=-1000, max_value=1000, places=4), st.integers(min_value=0, max_value=3))
def test_percentages_show_the_value_times_100_rounded_half_up(value, places):
    code = "0" + ("." + "0" * places if places else "") + "%"
    expected = (value * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    assert classify(code).text(str(value)) == f"{expected}%"


def formatted(path: Path, rows: list[list[object]], formats: dict[int, str]) -> Path:
    """Write one sheet; column k's numbers get number format formats[k]."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    styles = {k: wb.add_format({"num_format": code}) for k, code in formats.items()}
    date_style = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws = wb.add_worksheet("Sheet1")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, date):
                ws.write_datetime(r, c, value, date_style)
            elif isinstance(value, int | float) and r > 0:
                ws.write_number(r, c, value, styles.get(c))
            elif value is not None:
                ws.write_string(r, c, str(value))
    wb.close()
    return path


def test_the_reader_gives_the_shown_text(tmp_path):
    path = formatted(tmp_path / "f.xlsx", [["a", "b", "c", "d", "e"], [123, 45, 0.125, 7, 2.5]],
                     {0: "000000", 1: '"GD"0000', 2: "0.0%", 3: ";;;"})
    wb = readers.open_workbook(path)
    (grid,) = [readers.sheet_grid(wb, s) for s in readers.sheets(wb, path)]
    assert grid.frame.rows() == [(1, "a", "b", "c", "d", "e"), (2, "000123", "GD0045", "12.5%", None, "2.5")]


def test_a_padded_ticket_number_is_the_same_key_as_the_text_one(ws):
    # April's register has the ticket typed as text; May's holds it as a number shown padded.
    formatted(ws.path("hotline/2024-04.xlsx"), [HOTLINE, ["000000000123", date(2024, 4, 5), "投诉", date(2024, 4, 10)]], {})
    formatted(ws.path("hotline/2024-05.xlsx"), [HOTLINE, [123, date(2024, 4, 5), "投诉", date(2024, 4, 10)]],
              {0: "000000000000"})
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (2, 0)
    assert ws.query("SELECT DISTINCT ticket_no FROM raw.hotline") == [("000000000123",)]


def test_a_count_shown_as_a_percentage_or_hidden_is_not_loaded_as_its_value(ws):
    rows = [INSPECTIONS, [date(2024, 3, 5), "日常检查", "甲网吧", "网吧", 3, "张三", "未发现问题"]]
    formatted(ws.path("inspections/2024-03.xlsx"), rows, {4: "0%"})
    formatted(ws.path("inspections/2024-04.xlsx"), [INSPECTIONS, [date(2024, 4, 5), *rows[1][1:]]], {4: ";;;"})
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (0, 2)
    assert ws.query("SELECT path, row, header, raw_value, rule FROM problems ORDER BY path") == [
        ("inspections/2024-03.xlsx", 2, "出动人次", "300%", "integer"),
        ("inspections/2024-04.xlsx", 2, "出动人次", None, "required")]


@pytest.mark.parametrize(("code", "stored", "shown", "differs"), [
    ("#,##0", "1234.5", "1,235", True), ("#,##0", "1200", "1,200", False), ("0", "2.6", "3", True),
    ("0", "3", "3", False), ("0.00", "0.30000000000000004", "0.30", False), ("0.00", "0.305", "0.31", True),
    ('0.00"元"', "12.5", "12.50元", False), ('0"人"', "2.5", "3人", True),
    ("0", "-2.5", "-3", True), ("#.00", "0.5", ".50", False),
])  # fmt: skip
def test_a_rounding_format_differs_only_where_another_number_shows(code, stored, shown, differs):
    fmt = classify(code)
    assert (fmt.text(stored), fmt.stored_differs(stored)) == (shown, differs)


@settings(deadline=None, max_examples=300)
@given(st.decimals(min_value=-10**9, max_value=10**9, places=4), st.integers(min_value=0, max_value=4))
def test_a_rounding_format_differs_exactly_when_rounding_changes_the_number(value, places):
    fmt = classify("#,##0" + ("." + "0" * places if places else ""))
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    assert fmt.stored_differs(str(value)) == (rounded != value)
    assert Decimal(fmt.text(str(value)).replace(",", "")) == rounded


def test_the_reader_marks_a_number_shown_rounded_and_keeps_its_stored_text(tmp_path):
    path = formatted(tmp_path / "f.xlsx", [["a", "b", "c", "d"], [1234.5, 2.6, 1200, 5000]],
                     {0: "#,##0", 1: "0", 2: "#,##0", 3: "#,##0,"})
    wb = readers.open_workbook(path)
    (grid,) = [readers.sheet_grid(wb, s) for s in readers.sheets(wb, path)]
    # `#,##0,` scales by a thousand: it loads as shown, at full precision (`affixed`)
    assert grid.frame.rows() == [(1, "a", "b", "c", "d"), (2, "1234.5", "2.6", "1200", "5")]
    assert grid.marks.rows() == [(2, 0, "rounded", "1,235", "1234.5"), (2, 1, "rounded", "3", "2.6")]


def test_a_count_shown_rounded_goes_back_naming_what_shows_and_what_is_stored(ws):
    rows = [INSPECTIONS, [date(2024, 3, 5), "日常检查", "甲网吧", "网吧", 2.6, "张三", "未发现问题"],
            [date(2024, 3, 6), "日常检查", "乙网吧", "网吧", 4, "张三", "未发现问题"]]
    formatted(ws.path("inspections/2024-03.xlsx"), rows, {4: "0"})
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (1, 1)
    ((row, header, raw, rule, reason),) = ws.query("SELECT row, header, raw_value, rule, message FROM problems")
    assert (row, header, raw, rule) == (2, "出动人次", "3", "shown_rounded")
    assert "显示为 3" in reason and "2.6" in reason


def xls(path: Path, rows: list[list[object]], formats: dict[int, str]) -> Path:
    """Write one .xls sheet (xlwt); column k's numbers get number format formats[k]."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlwt.Workbook(encoding="utf-8")
    sheet = wb.add_sheet("Sheet1")
    styles = {k: xlwt.easyxf(num_format_str=code) for k, code in formats.items()}
    date_style = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, date):
                sheet.write(r, c, value, date_style)
            elif isinstance(value, int | float) and r > 0 and c in styles:
                sheet.write(r, c, value, styles[c])
            elif value is not None:
                sheet.write(r, c, value)
    wb.save(str(path))
    return path


def test_an_xls_reads_its_number_formats_as_an_xlsx_does(tmp_path):
    path = xls(tmp_path / "f.xls", [["a", "b", "c", "d", "e", "f"], [123, 1234.5, 0.125, 7, 2.5, 5]],
               {0: "000000", 1: "#,##0", 2: "0.0%", 3: ";;;", 5: "0.00"})
    wb = readers.open_workbook(path)
    (grid,) = [readers.sheet_grid(wb, s) for s in readers.sheets(wb, path)]
    assert grid.frame.rows() == [(1, "a", "b", "c", "d", "e", "f"), (2, "000123", "1234.5", "12.5%", None, "2.5", "5")]
    assert grid.marks.rows() == [(2, 1, "rounded", "1,235", "1234.5")]


def test_an_xls_padded_ticket_number_is_the_same_key_as_the_text_one(ws):
    xls(ws.path("hotline/2024-04.xls"), [HOTLINE, ["000000000123", date(2024, 4, 5), "投诉", date(2024, 4, 10)]], {})
    xls(ws.path("hotline/2024-05.xls"), [HOTLINE, [123, date(2024, 4, 5), "投诉", date(2024, 4, 10)]],
        {0: "000000000000"})
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (2, 0)
    assert ws.query("SELECT DISTINCT ticket_no FROM raw.hotline") == [("000000000123",)]


def test_a_date_cell_before_1900_03_01_goes_back_never_loads_as_a_date_the_clerk_did_not_see(ws):
    # 9:30 typed alone (serial 0.396, shown 9:30), a negative serial (shown ####), serial 60 (Excel's 1900-02-29)
    path = ws.path("inspections/2024-03.xlsx")
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    sheet = wb.add_worksheet("Sheet1")
    sheet.write_row(0, 0, INSPECTIONS)
    styles = {"h:mm": wb.add_format({"num_format": "h:mm"}), "d": wb.add_format({"num_format": "yyyy-mm-dd"})}
    for r, (serial, style) in enumerate([(0.3958333333, "h:mm"), (-5, "d"), (60, "d"), (45356, "d")], start=1):
        sheet.write_number(r, 0, serial, styles[style])
        sheet.write_row(r, 1, ["日常检查", f"网吧{r}", "网吧", 2, "张三", "未发现问题"])
    wb.close()
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (1, 3)
    assert ws.query("SELECT row, header, rule FROM problems ORDER BY row") == [
        (2, "检查日期", "date"), (3, "检查日期", "date"), (4, "检查日期", "date")]
    assert ws.query("SELECT inspection_date FROM raw.inspections") == [(date(2024, 3, 5),)]
