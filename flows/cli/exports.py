"""The human export forms: an Excel-ready CSV and a typed, formula-safe workbook.

Two forms of every table a command exports:

- for machines, `--format csv`: UTF-8 without a byte-order mark, the columns under their codes,
  values as plain text (what scripts and `pl.read_csv` expect);
- for people, `--format excel-csv`: UTF-8 with a byte-order mark (Excel and WPS on Chinese
  Windows read it as UTF-8 instead of GBK), headings in Chinese with the code beside, yes/no
  as 是/否; and `--format xlsx`: the same headings, numbers stored as numbers with a number
  format, dates as dates, the header row frozen and filtered.

Both forms are formula-safe: text that starts like a formula (= + - @, a tab or a carriage
return) is written with a leading quote and never runs (`output.neutralise`).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl

from flows.cli.headings import human_heading
from flows.report.formula_safe import neutralise, safe_frame

BOM = "\ufeff"
HEADER = {"bold": True, "bg_color": "#F3E5E3", "border": 1, "text_wrap": True, "valign": "vcenter"}
INTEGER, DECIMAL, DATE, DATETIME = "0", "#,##0.00", "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"
# A number format for one cell, given its column and its row; None: by the value's type.
CellFormat = Callable[[str, dict], str | None]


def human_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Return a frame as a person reads it: Chinese headings, lists joined, yes/no in Chinese."""
    out = frame.with_columns(
        [pl.col(c).list.join("、") for c, t in frame.schema.items() if isinstance(t, pl.List)]
        + [pl.col(c).replace_strict({True: "是", False: "否"}, default=None, return_dtype=pl.String)
           for c, t in frame.schema.items() if t == pl.Boolean]
    )  # fmt: skip
    return out.rename({c: human_heading(c) for c in out.columns})


def human_csv(frame: pl.DataFrame) -> str:
    """Return a frame as CSV for Excel or WPS: byte-order mark, Chinese headings, formula-safe."""
    return BOM + safe_frame(human_frame(frame)).write_csv()


def _width(values: list[str]) -> float:
    from flows.report.gongwen import text_em

    return min(60.0, max([text_em(v) * 2 for v in values] or [8]) + 2)


def write_sheet(wb, name: str, frame: pl.DataFrame, formats: dict, *,
                cell_format: CellFormat | None = None) -> None:
    """Write a frame as one sheet: heading row, then typed cells, frozen and filtered."""
    ws = wb.add_worksheet(name[:31])
    number_formats: dict[str, object] = {}

    def fmt(pattern: str):
        if pattern not in number_formats:
            number_formats[pattern] = wb.add_format({"num_format": pattern})
        return number_formats[pattern]

    headings = [human_heading(c) for c in frame.columns]
    for col, heading in enumerate(headings):
        ws.write_string(0, col, neutralise(heading), formats["header"])
    samples: list[list[str]] = [[h] for h in headings]
    for r, row in enumerate(frame.iter_rows(named=True), start=1):
        for c, (column, value) in enumerate(row.items()):
            pattern = cell_format(column, row) if cell_format else None
            if value is None:
                ws.write_blank(r, c, None)
            elif isinstance(value, bool):
                ws.write_boolean(r, c, value)
            elif isinstance(value, int | float | Decimal):
                if pattern is None:
                    pattern = DECIMAL if isinstance(value, Decimal) else (
                        INTEGER if isinstance(value, int) else "General")  # fmt: skip
                ws.write_number(r, c, float(value), fmt(pattern))
            elif isinstance(value, datetime):
                ws.write_datetime(r, c, value.replace(tzinfo=None), fmt(DATETIME))
            elif isinstance(value, date):
                ws.write_datetime(r, c, datetime(value.year, value.month, value.day), fmt(DATE))
            elif isinstance(value, list | tuple):
                ws.write_string(r, c, neutralise("、".join("" if v is None else str(v) for v in value)))
            else:
                ws.write_string(r, c, neutralise(str(value)))
            if r <= 200:
                samples[c].append("" if value is None else str(value))
    for c, values in enumerate(samples):
        ws.set_column(c, c, _width(values))
    ws.freeze_panes(1, 0)
    if frame.width:
        ws.autofilter(0, 0, max(frame.height, 1), frame.width - 1)


def write_pairs(wb, name: str, pairs: list[tuple[str, object]], formats: dict) -> None:
    """Write (field, value) lines as a two-column sheet, each value with its own type."""
    frame = pl.DataFrame({"field": [k for k, _ in pairs]})
    ws = wb.add_worksheet(name[:31])
    ws.write_string(0, 0, "项目 field", formats["header"])
    ws.write_string(0, 1, "内容 value", formats["header"])
    for r, (field, value) in enumerate(pairs, start=1):
        ws.write_string(r, 0, neutralise(human_heading(field)))
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            ws.write_number(r, 1, float(value))
        elif value is None:
            ws.write_blank(r, 1, None)
        else:
            ws.write_string(r, 1, neutralise(str(value)))
    ws.set_column(0, 0, _width([human_heading(f) for f in frame["field"]]))
    ws.set_column(1, 1, 60)


def write_xlsx(target: Path | io.BytesIO, sheets: dict[str, pl.DataFrame | list[tuple[str, object]]],
               *, cell_format: CellFormat | None = None) -> None:
    """Write a workbook of sheets (frames, or (field, value) lines) in the human form."""
    import xlsxwriter  # only a command that writes a workbook pays for it, never `tally run`

    wb = xlsxwriter.Workbook(target, {"in_memory": True})
    formats = {"header": wb.add_format(HEADER)}
    for name, content in sheets.items():
        if isinstance(content, pl.DataFrame):
            write_sheet(wb, name, content, formats, cell_format=cell_format)
        else:
            write_pairs(wb, name, content, formats)
    wb.close()


def indicator_format(column: str, row: dict) -> str | None:
    """The number format of an indicator's value: a rate with one decimal, yuan with cents."""
    if column != "value" or row.get("value") is None:
        return None
    if row.get("unit") == "%":
        return "0.0"
    if row.get("unit") == "元":
        return "#,##0.00" if float(row["value"]) % 1 else "#,##0"
    return "#,##0" if float(row["value"]).is_integer() else "#,##0.##"
