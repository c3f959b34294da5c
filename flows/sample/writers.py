"""Write laid-out sheets as .xlsx (xlsxwriter), .xls (xlwt) or .csv, byte-for-byte reproducibly."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import io
from pathlib import Path

import xlsxwriter

from flows.sample.messy import Sheet

# xlwt writes the sample's .xls files and nothing else needs it: it is the `tally[sample]` extra.
SAMPLE_EXTRA = "xlwt"
INSTALL_HINT = "pip install 'tally[sample]'"


def missing_extra() -> str | None:
    """Return the module of the `tally[sample]` extra that is not installed, else None."""
    return None if importlib.util.find_spec(SAMPLE_EXTRA) else SAMPLE_EXTRA


def write_xlsx(path: Path, sheets: list[Sheet], created: dt.datetime, author: str) -> None:
    """Write sheets to an .xlsx file whose bytes depend only on its content and `created`."""
    book = xlsxwriter.Workbook(
        str(path),
        {
            "in_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    # Fixed document properties: xlsxwriter otherwise stamps the time of writing.
    book.set_properties({"created": created, "author": author, "company": author})
    header = book.add_format(
        {"bold": True, "align": "center", "valign": "vcenter", "text_wrap": True, "border": 1}
    )
    date = {}
    text = book.add_format({"num_format": "@"})
    active = None
    for sheet in sheets:
        ws = book.add_worksheet(sheet.name)
        if sheet.hidden:
            ws.hide()
        elif active is None:
            active = ws
        fmt_date = date.setdefault(
            sheet.date_display, book.add_format({"num_format": sheet.date_display})
        )
        for col in sheet.text_columns:
            ws.set_column(col, col, 12, text)
        merged = {(r, c) for r, c, _, _, _ in sheet.merges}
        for r, c1, r2, c2, value in sheet.merges:
            if (r, c1) == (r2, c2):
                continue
            ws.merge_range(r, c1, r2, c2, value, header)
        for r, row in enumerate(sheet.rows):
            for c, value in enumerate(row):
                if value is None or value == "" or (r, c) in merged:
                    continue
                if isinstance(value, bool):
                    ws.write_boolean(r, c, value)
                elif isinstance(value, dt.date):
                    ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), fmt_date)
                elif isinstance(value, int | float):
                    ws.write_number(r, c, value, text if c in sheet.text_columns else None)
                else:
                    ws.write_string(r, c, str(value))
    if active is not None:
        # A hidden sheet cannot be the active one: make the first visible sheet active.
        active.activate()
        active.set_first_sheet()
    book.close()


def write_xls(path: Path, sheets: list[Sheet]) -> None:
    """Write sheets to an old-style .xls file, as WPS and old Excel save them."""
    import xlwt  # only here: the extra `tally[sample]` (see missing_extra)

    book = xlwt.Workbook(encoding="utf-8")
    fmt_date = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    text = xlwt.easyxf(num_format_str="@")
    bold = xlwt.easyxf("font: bold on; align: horiz center, vert center, wrap on")
    for sheet in sheets:
        ws = book.add_sheet(sheet.name)
        merged = set()
        for r, c1, r2, c2, value in sheet.merges:
            ws.write_merge(r, r2, c1, c2, value, bold)
            merged |= {(rr, cc) for rr in range(r, r2 + 1) for cc in range(c1, c2 + 1)}
        for r, row in enumerate(sheet.rows):
            for c, value in enumerate(row):
                if value is None or value == "" or (r, c) in merged:
                    continue
                if isinstance(value, dt.date):
                    ws.write(r, c, value, fmt_date)
                elif (
                    isinstance(value, int | float)
                    and not isinstance(value, bool)
                    and c in sheet.text_columns
                ):
                    ws.write(r, c, value, text)
                else:
                    ws.write(r, c, value)
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(buffer.getvalue())


def csv_text(sheet: Sheet) -> str:
    """Return a sheet as CSV text with Windows line ends, as Excel saves it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    width = max((len(r) for r in sheet.rows), default=0)
    for row in sheet.rows:
        cells = [
            "" if v is None else ("TRUE" if v is True else "FALSE" if v is False else str(v))
            for v in row
        ]
        writer.writerow(cells + [""] * (width - len(cells)))
    return out.getvalue()


def write_csv(path: Path, sheet: Sheet, encoding: str) -> None:
    """Write a sheet as CSV in an encoding: utf-8, utf-8-sig (BOM), gbk or gb18030."""
    path.write_bytes(csv_text(sheet).encode(encoding))
