"""Property: the grid of a random workbook holds every cell as Excel shows it, and says what is hidden."""

from __future__ import annotations

import zipfile

import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.extract import readers, xlsx_marks
from flows.extract.readers import MergedRange
from flows.extract.xlsx_marks import col_letters

ERRORS = ["#N/A", "#REF!", "#DIV/0!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!"]
cell = st.one_of(
    st.none(),
    st.text(alphabet="检查日期场所网吧ABC123", min_size=1, max_size=6),
    st.integers(-10**6, 10**6),
    st.sampled_from(ERRORS),
)


@st.composite
def sheets(draw):
    rows = draw(st.integers(1, 8))
    cols = draw(st.integers(1, 6))
    first_col = draw(st.integers(0, 3))  # leading empty columns
    grid = [[draw(cell) for _ in range(cols)] for _ in range(rows)]
    hidden_rows = draw(st.sets(st.integers(0, rows - 1), max_size=3))
    hidden_cols = draw(st.sets(st.integers(first_col, first_col + cols - 1), max_size=2))
    merge = None
    if rows >= 2 and draw(st.booleans()):
        c = draw(st.integers(0, cols - 1))
        r = draw(st.integers(0, rows - 2))
        merge = (r, first_col + c, draw(st.integers(r + 1, rows - 1)), first_col + c)
    return grid, first_col, hidden_rows, hidden_cols, merge


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sheets())
def test_random_sheet_reads_as_excel_shows_it(tmp_path, sheet):
    grid, first_col, hidden_rows, hidden_cols, merge = sheet
    path = tmp_path / "p.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    expected: dict[tuple[int, int], str] = {}
    errors = []
    for r, row in enumerate(grid):
        for c, value in enumerate(row):
            col = first_col + c
            if merge and merge[0] <= r <= merge[2] and col == merge[1]:
                continue
            if value in ERRORS:
                ws.write_formula(r, col, "=X1", None, value)
                errors.append((r + 1, col, "error", value, "=X1"))
            elif isinstance(value, int):
                ws.write_number(r, col, value)
            elif value is not None:
                ws.write_string(r, col, value)
            else:
                continue
            expected[(r + 1, col)] = str(value)
    if merge:
        ws.merge_range(*merge, "合并")
        expected[(merge[0] + 1, merge[1])] = "合并"
    for r in hidden_rows:
        ws.set_row(r, None, None, {"hidden": True})
    for c in hidden_cols:
        ws.set_column(c, c, None, None, {"hidden": True})
    wb.close()

    book = readers.open_workbook(path)
    (got,) = [readers.sheet_grid(book, s) for s in readers.sheets(book, path)]
    seen = {
        (row[0], c): text
        for row in got.frame.rows()
        for c, text in enumerate(row[1:])
        if text is not None
    }
    assert seen == expected
    assert got.hidden_rows == frozenset(r + 1 for r in hidden_rows)
    assert got.hidden_columns == frozenset(hidden_cols)
    if merge:
        r1, c1, r2, _ = merge
        ref = f"{col_letters(c1)}{r1 + 1}:{col_letters(c1)}{r2 + 1}"
        assert got.merges == (MergedRange(r1 + 1, r2 + 1, c1, c1, ref),)
    else:
        assert got.merges == ()
    assert sorted(got.marks.rows()) == sorted(errors)
    # The kind-by-kind search and the XML parser agree on every sheet.
    with zipfile.ZipFile(path) as z:
        data = z.read("xl/worksheets/sheet1.xml")
    fast, parsed = xlsx_marks.scan_sheet(data, "S"), xlsx_marks.SheetScan()
    xlsx_marks.detail(data, parsed, "S")
    assert sorted(fast.marks) == sorted(parsed.marks)
    assert fast.hidden_rows == parsed.hidden_rows
    assert fast.texts == parsed.texts
    if parsed.marks or parsed.hidden_rows:
        assert fast.min_col == parsed.min_col
