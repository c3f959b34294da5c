"""The invariant on real workbooks: every visible non-blank data cell loads as Excel shows it, or is listed.

Hypothesis writes .xlsx files with xlsxwriter holding hidden rows, a hidden duplicate column,
merged text cells, error cells and, now and then, cells far outside the table; the readers and
the parser then read them as a run does (in this process: the far-cell precheck must reject such
a sheet before calamine is asked for it).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_sheet_rules import parse_grid

from flows.errors import Rejected
from flows.extract import readers

HEADER = ["检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "检查结果", "备注"]
VENUES = ["甲网吧", "乙书店", "丙影院", "丁KTV"]
NOTES = ["已整改", "复查", None]
ERRORS = ["#N/A", "#REF!", "#DIV/0!", "#VALUE!"]


@st.composite
def workbooks(draw):
    """Rows as the clerk sees them, and how the file stores them."""
    twin = draw(st.booleans())  # a hidden 检查对象 column in A, before the visible one
    shift = 1 if twin else 0
    rows: list[list | None] = []
    for i in range(draw(st.integers(1, 7))):
        if draw(st.integers(0, 5)) == 0:
            rows.append(None)  # a blank row
            continue
        rows.append([f"2024-03-{i + 1:02d}", "日常检查", draw(st.sampled_from(VENUES)), "网吧",
                     draw(st.sampled_from([1, 2, 3])), "未发现问题", draw(st.sampled_from(NOTES))])
    first = 2  # spreadsheet row of the first data row (the header is row 1)
    last = first + len(rows) - 1
    hidden = draw(st.sets(st.integers(first, last), max_size=2)) if rows else set()
    # Merged text cells down 检查对象 (col 2) or 备注 (col 6), over consecutive non-blank rows.
    merges: list[tuple[int, int, int]] = []  # (first row, last row, column in the ledger layout)
    r = first
    while r < last:
        end = min(r + draw(st.integers(1, 3)) - 1, last)
        span = [rows[k - first] for k in range(r, end + 1)]
        if end > r and all(span) and draw(st.booleans()):
            col = draw(st.sampled_from([2, 6]))
            value = rows[r - first][col] or "合并备注"
            for k in range(r, end + 1):
                rows[k - first][col] = value  # what the clerk sees in every row it spans
            merges.append((r, end, col))
        r = end + 1
    merged_cells = {(k, c) for a, b, c in merges for k in range(a, b + 1)}
    errors: dict[tuple[int, int], str] = {}
    for k in range(first, last + 1):
        if rows[k - first] and draw(st.integers(0, 4)) == 0:
            col = draw(st.sampled_from([2, 4, 6]))
            if (k, col) not in merged_cells:
                errors[(k, col)] = draw(st.sampled_from(ERRORS))
                rows[k - first][col] = errors[(k, col)]
    far = draw(st.integers(0, 5)) == 0
    return rows, hidden, twin, shift, merges, errors, far


def write(path: Path, case) -> Path:
    rows, hidden, twin, shift, merges, errors, far = case
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("3月")
    header = (["检查对象"] if twin else []) + HEADER
    ws.write_row(0, 0, header)
    if twin:
        ws.set_column(0, 0, None, None, {"hidden": True})
    starts = {(a, c): (a, b) for a, b, c in merges}
    covered = {(k, c) for a, b, c in merges for k in range(a + 1, b + 1)}
    for i, row in enumerate(rows):
        r = i + 2  # spreadsheet row
        if row is None:
            continue
        if twin:
            ws.write_string(r - 1, 0, "隐藏值")
        for c, value in enumerate(row):
            col = c + shift
            if (r, c) in covered or value is None:
                continue
            if (r, c) in errors:
                ws.write_formula(r - 1, col, "=NA()", None, errors[(r, c)])
            elif (r, c) in starts:
                a, b = starts[(r, c)]
                ws.merge_range(a - 1, col, b - 1, col, value)
            elif isinstance(value, int):
                ws.write_number(r - 1, col, value)
            else:
                ws.write_string(r - 1, col, value)
    for r in hidden:
        ws.set_row(r - 1, None, None, {"hidden": True})
    if far:  # where Excel's Solver keeps a saved model
        for k in range(3):
            ws.write_number(1048549 + k, 16383, k)
    wb.close()
    return path


def read(path: Path):
    """Read and parse the workbook's sheet as a run does."""
    book = readers.open_workbook(path)
    [sheet] = readers.sheets(book, path)
    return parse_grid(readers.sheet_grid(book, sheet))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(workbooks())
def test_every_visible_cell_loads_as_excel_shows_it_or_is_listed(tmp_path, case):
    rows, hidden, _twin, _shift, _merges, errors, far = case
    path = write(tmp_path / "2024-03.xlsx", case)
    if far:
        with pytest.raises(Rejected) as caught:
            read(path)
        assert caught.value.rule == "far_cells"
        assert "XFD1048550" in caught.value.reason
        return
    parsed = read(path)
    first = 2
    present = {first + i for i, row in enumerate(rows) if row}
    visible = present - hidden
    errors_at = set(parsed.problems.filter(pl.col("severity") == "error")["_row"].to_list())
    loaded = {r: row for r, row in zip(parsed.rows["_row"].to_list(), parsed.rows.iter_rows(named=True), strict=True)
              if r not in errors_at}
    # Every visible non-blank row is loaded or sent back; hidden rows are neither, but counted.
    assert set(loaded) | errors_at == visible
    assert not (set(loaded) & hidden)
    assert parsed.rows_read == len(present)
    skipped = set(parsed.skipped["row"].to_list()) if "row" in parsed.skipped.columns else set(
        parsed.skipped["_row"].to_list())
    assert skipped == present & hidden
    for r, row in loaded.items():  # as the clerk sees it: merged values in every row, the visible twin
        shown = rows[r - first]
        assert row["venue_name"] == shown[2]
        assert row["inspectors"] == shown[4]
        assert row["note"] == shown[6]
    for (r, c), text in errors.items():  # an error cell is never loaded, and is told as Excel shows it
        if r in visible:
            assert r in errors_at
            told = parsed.problems.filter((pl.col("_row") == r) & (pl.col("raw_value") == text))
            assert told.height == 1, (r, c, text, parsed.problems)
