"""A number cell whose format pads, scales or hides it loads as the text Excel shows.

A ticket number 123 formatted `000000000000` shows as `000000000123`; 3 formatted `0%` shows as
`300%`; any value formatted `;;;` shows as nothing. calamine gives the value; the reader puts the
shown text in its place (`flows/extract/number_formats.py`).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import xlsxwriter
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
    ("0", None), ("0.00", None), ("#,##0", None), ("yyyy-mm-dd", None), ("00.0", None),
    ("[Red]000", None), ("000;-000", None), ("@", None),
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
