"""The report as a formatted workbook (xlsxwriter), and a formula-safe sheet writer for any frame.

Every text cell goes through `neutralise` and is written with `write_string`: text that starts
like a formula (`=HYPERLINK(...)`) is never stored as one, and opens as the text it was.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import xlsxwriter

from flows.report.charts import Chart
from flows.report.formula_safe import neutralise
from flows.report.labels import COMPLETENESS_HEADINGS, as_of_lines, report_title, section_label
from flows.report.reported import NO_DATA
from flows.report.tables import ReportData

CHANGE_FORMATS = {
    "%": '[Color10]+0.0"个百分点";[Red]-0.0"个百分点";0',
    "n": "[Color10]+#,##0.##;[Red]-#,##0.##;0",
}
HEADER = {"bold": True, "bg_color": "#F3E5E3", "border": 1, "text_wrap": True, "valign": "vcenter"}


def write_cell(ws, row: int, col: int, value: object, fmt=None) -> None:
    """Write one value with its own type; text is neutralised and never read as a formula."""
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float | Decimal):
        ws.write_number(row, col, float(value), fmt)
    elif isinstance(value, datetime):
        ws.write_string(row, col, value.isoformat(sep=" ", timespec="seconds"), fmt)
    elif isinstance(value, date):
        ws.write_string(row, col, value.isoformat(), fmt)
    elif isinstance(value, list | tuple):
        ws.write_string(
            row, col, neutralise("、".join("" if v is None else str(v) for v in value)), fmt
        )
    else:
        ws.write_string(row, col, neutralise(str(value)), fmt)


def write_frame(
    ws,
    frame: pl.DataFrame,
    header_fmt=None,
    *,
    first_row: int = 0,
    headings: Sequence[str] | None = None,
    cell_fmt=None,
) -> int:
    """Write a frame as a table (header row, then rows) from first_row; return the next free row."""
    for col, name in enumerate(headings or frame.columns):
        write_cell(ws, first_row, col, name, header_fmt)
    for r, row in enumerate(frame.iter_rows(), start=first_row + 1):
        for c, value in enumerate(row):
            write_cell(ws, r, c, value, cell_fmt)
    return first_row + 1 + frame.height


def write_workbook(target: Path | io.BytesIO, sheets: dict[str, pl.DataFrame]) -> None:
    """Write frames as the sheets of a plain, formula-safe workbook (one header row each)."""
    wb = xlsxwriter.Workbook(target, {"in_memory": True})
    header = wb.add_format(HEADER)
    for name, frame in sheets.items():
        ws = wb.add_worksheet(name[:31])
        write_frame(ws, frame, header)
        ws.freeze_panes(1, 0)
        if frame.width:
            ws.autofilter(0, 0, max(frame.height, 1), frame.width - 1)
    wb.close()


def _number_format(unit: str, value: float | None) -> str:
    if unit == "%":
        return "0.0"
    if value is not None and float(value).is_integer():
        return "#,##0"
    return "#,##0.00"


def _indicator_sheet(wb, data: ReportData, fmts: dict) -> None:
    ws = wb.add_worksheet("指标")
    ws.merge_range(0, 0, 0, 7, report_title(data), fmts["title"])
    for i, line in enumerate(as_of_lines(data), start=1):
        write_cell(ws, i, 0, line, fmts["meta"])
    top = len(as_of_lines(data)) + 2
    headings = ("章节", "指标", "报告写法", "数值", "单位", "上年数值", "同比变化", "代码")
    for c, h in enumerate(headings):
        write_cell(ws, top, c, h, fmts["header"])
    number_fmts: dict[str, object] = {}
    for r, row in enumerate(data.rows.iter_rows(named=True), start=top + 1):
        write_cell(ws, r, 0, section_label(row["section"], row["section_title"]), fmts["cell"])
        write_cell(ws, r, 1, row["name_zh"], fmts["cell"])
        write_cell(ws, r, 2, row["printed"], fmts["cell"])
        for col, key, has in ((3, "value", "has_data"), (5, "last_value", "last_has_data")):
            if not row[has]:  # a year without data: a dash, never a blank or a 0
                write_cell(ws, r, col, NO_DATA, fmts["nodata"])
                continue
            pattern = _number_format(row["unit"], row[key])
            if pattern not in number_fmts:
                number_fmts[pattern] = wb.add_format({"num_format": pattern, "border": 1})
            write_cell(ws, r, col, row[key], number_fmts[pattern])
        write_cell(ws, r, 4, row["unit"], fmts["cell"])
        # The change is a signed number with its sign in the format, not text: text that
        # starts with '-' or '+' would be neutralised like a formula.
        pattern = CHANGE_FORMATS["%" if row["unit"] == "%" else "n"]
        if pattern not in number_fmts:
            number_fmts[pattern] = wb.add_format({"num_format": pattern, "border": 1})
        if row["has_data"] and row["last_has_data"]:
            write_cell(ws, r, 6, row["change"], number_fmts[pattern])
        else:
            write_cell(ws, r, 6, NO_DATA, fmts["nodata"])
        write_cell(ws, r, 7, row["code"], fmts["code"])
    ws.freeze_panes(top + 1, 2)
    ws.autofilter(top, 0, top + data.rows.height, len(headings) - 1)
    for col, width in enumerate((26, 34, 16, 12, 7, 12, 16, 28)):
        ws.set_column(col, col, width)


def _completeness_sheet(wb, data: ReportData, fmts: dict) -> None:
    ws = wb.add_worksheet("报送情况")
    columns = [c for c, _ in COMPLETENESS_HEADINGS]
    for c, (_, h) in enumerate(COMPLETENESS_HEADINGS):
        write_cell(ws, 0, c, h, fmts["header"])
    for r, row in enumerate(data.completeness.select(columns).iter_rows(), start=1):
        for c, value in enumerate(row):
            name = columns[c]
            fmt = fmts["cell"]
            if name.startswith("m") and name[1:].isdigit():
                fmt = {"已报": fmts["ok"], "已报*": fmts["zero"], "零报告": fmts["zero"], "逾期": fmts["late"],
                       "未到期": fmts["cell"]}.get(value, fmts["miss"])
                if data.completeness["kind"][r - 1] == "snapshot":
                    fmt = fmts["cell"]
            write_cell(ws, r, c, value, fmt)
    ws.set_column(0, 1, 20)
    ws.set_column(2, 13, 6)
    ws.set_column(14, 17, 10)
    ws.set_column(18, 18, 24)
    ws.freeze_panes(1, 1)


def _monthly_sheet(wb, data: ReportData, fmts: dict) -> None:
    ws = wb.add_worksheet("月度")
    wide = (
        data.monthly.with_columns(pl.format("{}月", pl.col("month")).alias("m"))
        .pivot(on="m", index=["code", "name_zh", "unit", "year"], values="value")
        .sort("code", "year")
    )
    months = [f"{m}月" for m in range(1, 13) if f"{m}月" in wide.columns]
    frame = wide.select("name_zh", "unit", "year", *months).with_columns(
        合计=pl.sum_horizontal(months)
    )
    write_frame(ws, frame, fmts["header"], headings=["指标", "单位", "年份", *months, "合计"],
                cell_fmt=fmts["cell"])  # fmt: skip
    ws.set_column(0, 0, 30)
    ws.freeze_panes(1, 1)


def render_xlsx(data: ReportData, charts: list[Chart], target: Path | io.BytesIO) -> None:
    """Write the report workbook: indicators, submission completeness, monthly series, charts."""
    wb = xlsxwriter.Workbook(target, {"in_memory": True})
    fmts = {
        "title": wb.add_format({"bold": True, "font_size": 14}),
        "meta": wb.add_format({"font_color": "#555555"}),
        "header": wb.add_format(HEADER),
        "cell": wb.add_format({"border": 1}),
        "code": wb.add_format({"border": 1, "font_color": "#888888"}),
        "nodata": wb.add_format({"border": 1, "align": "right", "font_color": "#888888"}),
        "ok": wb.add_format({"border": 1, "bg_color": "#E4F3E6", "align": "center"}),
        "zero": wb.add_format({"border": 1, "bg_color": "#EEF2F7", "align": "center"}),
        "miss": wb.add_format({"border": 1, "bg_color": "#FBE9E7", "align": "center"}),
        "late": wb.add_format({"border": 1, "bg_color": "#FDF0D5", "align": "center"}),
    }
    _indicator_sheet(wb, data, fmts)
    _completeness_sheet(wb, data, fmts)
    _monthly_sheet(wb, data, fmts)
    if charts:
        ws = wb.add_worksheet("图表")
        row = 0
        for chart in charts:
            write_cell(ws, row, 0, chart.title, fmts["title"])
            ws.insert_image(row + 1, 0, f"{chart.name}.png",
                            {"image_data": io.BytesIO(chart.png), "x_scale": 0.8, "y_scale": 0.8})  # fmt: skip
            row += 62
    wb.close()
