"""Write small ledger files for tests: xlsx (with hidden sheets and merges), xls and CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

import xlsxwriter
import xlwt

Rows = list[list[object]]


def write_xlsx(
    path: Path,
    sheets: dict[str, Rows],
    *,
    hidden: tuple[str, ...] = (),
    merges: dict[str, list[tuple[int, int, int, int, str]]] | None = None,
) -> Path:
    """Write a workbook; `hidden` sheets are hidden, `merges` are (r1, c1, r2, c2, text), 0-based."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    first_visible = None
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, datetime | date):
                    ws.write_datetime(r, c, datetime(value.year, value.month, value.day), date_fmt)
                elif isinstance(value, int | float):
                    ws.write_number(r, c, value)
                else:
                    ws.write_string(r, c, str(value))
        for r1, c1, r2, c2, text in (merges or {}).get(name, []):
            ws.merge_range(r1, c1, r2, c2, text)
        if name in hidden:
            ws.hide()
        elif first_visible is None:
            first_visible = ws
    if first_visible is not None:
        first_visible.activate()  # the active sheet cannot be hidden
    wb.close()
    return path


def write_xls(path: Path, rows: Rows, sheet: str = "Sheet1") -> Path:
    """Write an old-style .xls workbook with one sheet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet(sheet)
    date_style = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, datetime | date):
                ws.write(r, c, datetime(value.year, value.month, value.day), date_style)
            else:
                ws.write(r, c, value)
    wb.save(str(path))
    return path


def write_csv(path: Path, rows: Rows, *, encoding: str = "utf-8") -> Path:
    """Write a CSV in the given encoding (utf-8, utf-8-sig, gbk, gb18030)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(
        [["" if v is None else v for v in row] for row in rows]
    )
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path
