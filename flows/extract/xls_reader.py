"""Read an old .xls (BIFF2–BIFF8) with xlrd, in the same text forms calamine gives for .xlsx.

calamine decodes the text of an Excel 5.0/95 (BIFF5) file as U+FFFD/NUL pairs when its
codepage is not Latin; xlrd honours the CODEPAGE record. xlrd also reports what calamine
does not: error cells, hidden rows and columns, merged ranges and sheet visibility.
"""

from __future__ import annotations

import struct
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl
import xlrd

from flows.errors import Rejected
from flows.extract import number_formats
from flows.extract.grid import MARKS_SCHEMA, Grid, MergedRange, empty_marks, without_invisible
from flows.extract.xlsx_marks import excel_number_text, general_shown


def open_book(path: Path) -> xlrd.book.Book:
    """Open an .xls with its formatting (hidden rows, merges) where xlrd can read it."""
    try:
        try:
            return xlrd.open_workbook(str(path), formatting_info=True, on_demand=True)
        except xlrd.biffh.XLRDError:
            raise
        except Exception:  # formatting records xlrd cannot read (old BIFF versions, odd writers)
            return xlrd.open_workbook(str(path), on_demand=True)
    except xlrd.biffh.XLRDError as exc:
        text = str(exc).lower()
        if "encrypt" in text or "password" in text:
            raise Rejected("文件已加密（设置了打开密码），请去掉密码后重新提交", rule="encrypted") from exc
        raise Rejected(f"文件已损坏或不是有效的 Excel 工作簿，无法打开（{exc}）", rule="corrupt") from exc
    except Exception as exc:  # xlrd raises assorted errors on damaged files
        raise Rejected(
            f"文件已损坏或不是有效的 Excel 工作簿，无法打开（{type(exc).__name__}）", rule="corrupt"
        ) from exc


def sheet_list(book: xlrd.book.Book) -> list[tuple[str, bool]]:
    """The sheets' names and whether each is visible."""
    out = []
    for i, name in enumerate(book.sheet_names()):
        visibility = book._sheet_visibility[i] if i < len(book._sheet_visibility) else 0
        out.append((name, visibility == 0))
    return out


TEXT = xlrd.XL_CELL_TEXT
EMPTY = (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK)


def typed_text(ctype: int, value, datemode: int) -> tuple[str | None, tuple[str, str, str] | None]:
    """A cell's text as calamine gives it, and a (kind, shown, detail) mark when it needs one."""
    if ctype == xlrd.XL_CELL_TEXT:
        return value, None
    if ctype == xlrd.XL_CELL_NUMBER:
        if abs(value) >= 1e15:
            shown = general_shown(value)
            return shown, ("lost_digits", shown, repr(value))
        return excel_number_text(value), None
    if ctype == xlrd.XL_CELL_DATE:
        try:
            moment = xlrd.xldate.xldate_as_datetime(value, datemode)
        except (xlrd.xldate.XLDateError, ValueError, OverflowError):
            return excel_number_text(value), None
        # A time of day is a binary fraction of a day: round it to the second Excel shows.
        moment = moment.replace(microsecond=0) + timedelta(seconds=round(moment.microsecond / 1e6))
        return moment.strftime("%Y-%m-%d %H:%M:%S"), None
    if ctype == xlrd.XL_CELL_BOOLEAN:
        return ("true" if value else "false"), None
    if ctype == xlrd.XL_CELL_ERROR:
        shown = xlrd.error_text_from_code.get(value, "#N/A")
        return shown, ("error", shown, "")
    return None, None  # empty or blank


def shown_by_xf(book: xlrd.book.Book) -> dict[int, number_formats.Shown]:
    """Map each XF (cell style) index whose number format shows a number otherwise to how it does.

    Empty for a book opened without its formatting records; the classes are those of
    `flows.extract.number_formats`, read from the book's FORMAT records (built-ins included).
    """
    out: dict[int, number_formats.Shown] = {}
    kinds: dict[int, number_formats.Shown | None] = {}
    for index, xf in enumerate(getattr(book, "xf_list", None) or ()):
        key = xf.format_key
        if key not in kinds:
            fmt = book.format_map.get(key)
            kinds[key] = number_formats.classify(fmt.format_str) if fmt is not None else None
        if kinds[key] is not None:
            out[index] = kinds[key]
    return out


def formatted_number(value: float, shown: number_formats.Shown) -> tuple[str | None, tuple[str, str, str] | None]:
    """A number cell's text and mark under a format that shows it otherwise (`number_formats`)."""
    stored = excel_number_text(value)
    if shown.kind == "rounded":
        mark = ("rounded", shown.text(stored) or "", stored) if shown.stored_differs(stored) else None
        return stored, mark
    text = shown.text(stored)
    return (stored if text is None else (text or None)), None


def sheet_grid(book: xlrd.book.Book, index: int, name: str | None):
    """Read one sheet into a Grid: cK is column K, `_row` the spreadsheet row."""
    try:
        sheet = book.sheet_by_index(index)
    except Exception as exc:  # damaged sheet records
        raise Rejected(f"工作表「{name}」无法读取：文件已损坏（{type(exc).__name__}）", rule="corrupt") from exc
    datemode = book.datemode
    columns: list[list[str | None]] = [[None] * sheet.nrows for _ in range(sheet.ncols)]
    marks = []
    last_row = -1
    last_col = -1
    seen: dict[tuple[int, object, int], tuple[str | None, tuple[str, str, str] | None]] = {}
    # Number formats that pad, scale, hide or round a number (none in most books).
    shown = shown_by_xf(book)
    styles = getattr(sheet, "_cell_xf_indexes", None) if shown else None
    # xlrd's own row lists: a Cell object per cell costs more than the reading itself.
    for r, (types, values) in enumerate(zip(sheet._cell_types, sheet._cell_values, strict=True)):
        row_last = -1
        for c, ctype in enumerate(types):
            if ctype == TEXT:
                columns[c][r] = values[c]
            elif ctype in EMPTY:
                continue
            else:
                xf = styles[r][c] if styles is not None and ctype == xlrd.XL_CELL_NUMBER else -1
                key = (ctype, values[c], xf if xf in shown else -1)
                if (known := seen.get(key)) is None:  # ledgers repeat their dates and counts
                    known = seen[key] = (formatted_number(values[c], shown[xf]) if key[2] >= 0
                                         and abs(values[c]) < 1e15 else typed_text(ctype, values[c], datemode))
                text, mark = known
                if text is None:
                    continue
                columns[c][r] = text
                if mark is not None:
                    marks.append((r + 1, c, *mark))
            row_last = c
        if row_last >= 0:
            last_row, last_col = r, max(last_col, row_last)
    for r, c in uncalculated_formulas(book, index):
        if c < len(columns) and r < len(columns[c]) and columns[c][r] == "":
            columns[c][r] = None
            marks.append((r + 1, c, "no_result", "", ""))
            marks.sort()
    height, width = last_row + 1, last_col + 1
    if width == 0:
        return Grid(name, pl.DataFrame(schema={"_row": pl.Int32}), marks=empty_marks())
    frame = pl.DataFrame(
        [pl.Series("_row", np.arange(1, height + 1, dtype=np.int32))]
        + [pl.Series(f"c{c}", columns[c][:height], dtype=pl.Utf8) for c in range(width)]
    )
    # A row of height 0 or a column of width 0 is as hidden to the clerk as one marked hidden.
    hidden_rows = frozenset(r + 1 for r, info in sheet.rowinfo_map.items() if info.hidden or info.height == 0)
    hidden_cols = frozenset(c for c, info in sheet.colinfo_map.items() if info.hidden or info.width == 0)
    merges = tuple(
        MergedRange(r1 + 1, r2, c1, c2 - 1, merge_ref(r1, r2, c1, c2))
        for r1, r2, c1, c2 in sheet.merged_cells
    )
    book.unload_sheet(index)
    return Grid(
        name,
        without_invisible(frame),
        hidden_rows=hidden_rows,
        hidden_columns=hidden_cols,
        merges=merges,
        marks=pl.DataFrame(marks, schema=MARKS_SCHEMA, orient="row") if marks else empty_marks(),
        date1904=datemode == 1,
    )


FORMULA, EOF, RECALCID = 0x0006, 0x000A, 0x01C1
# A FORMULA record's cached result "empty text" (MS-XLS 2.5.133 FormulaValue, fExprO = 0xFFFF, byte 0 = 3).
EMPTY_TEXT_RESULT = b"\x03"


def uncalculated_formulas(book: xlrd.book.Book, index: int) -> list[tuple[int, int]]:
    """(row, col), 0-based, of the sheet's formulas saved without a computed result.

    A program that does not calculate (xlwt, and the systems built on it) writes every formula's
    result as empty text and leaves out the RECALCID record; Excel and WPS then calculate every
    formula on opening, so the clerk sees a value where xlrd reads "". Only a workbook without
    RECALCID (MS-XLS 2.4.215) is searched; in one that has it, an empty result is what Excel shows.
    """
    mem = getattr(book, "mem", None)
    starts = getattr(book, "_sh_abs_posn", None)
    if mem is None or not starts or index >= len(starts) or book.biff_version < 50:
        return []
    base, end = book.base, book.base + book.stream_len
    pos = base
    while pos + 4 <= min(starts[0], end):  # the workbook globals, before the first sheet
        rc, size = struct.unpack_from("<HH", mem, pos)
        if rc == RECALCID:
            return []
        pos += 4 + size
    out = []
    pos = starts[index]
    while pos + 4 <= end:
        rc, size = struct.unpack_from("<HH", mem, pos)
        if rc == EOF:
            break
        if rc == FORMULA and size >= 16:
            result = bytes(mem[pos + 10:pos + 18])
            if result[6:8] == b"\xff\xff" and result[:1] == EMPTY_TEXT_RESULT:
                row, col = struct.unpack_from("<HH", mem, pos + 4)
                out.append((row, col))
        pos += 4 + size
    return out


def merge_ref(r1: int, r2: int, c1: int, c2: int) -> str:
    """xlrd's half-open merged range as Excel names it, e.g. `B3:B5`."""
    from flows.extract.xlsx_marks import col_letters

    first = f"{col_letters(c1)}{r1 + 1}"
    last = f"{col_letters(c2 - 1)}{r2}"
    return first if first == last else f"{first}:{last}"
