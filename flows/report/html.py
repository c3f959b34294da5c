"""The report as one self-contained HTML file: tables per section, charts as base64 data URIs."""

from __future__ import annotations

import base64
from html import escape

import polars as pl

from flows.report.charts import Chart
from flows.report.labels import (
    COMPLETENESS_HEADINGS,
    INDICATOR_HEADINGS,
    as_of_lines,
    cell_text,
    outline,
    report_title,
)
from flows.report.tables import ReportData

STYLE = """
body { font-family: "Noto Sans CJK SC", "WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC",
       sans-serif; margin: 24px auto; max-width: 1100px; color: #222; background: #fff; }
h1 { font-size: 22px; border-bottom: 3px solid #c0392b; padding-bottom: 6px; }
h2 { font-size: 17px; margin-top: 28px; color: #8e2b20; }
h3 { font-size: 15px; margin-top: 18px; color: #8e2b20; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 8px 0; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; }
th { background: #f3e5e3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.up { color: #1e7b34; } td.down { color: #b03a2e; }
table.completeness td { text-align: center; padding: 3px 4px; }
td.ok { background: #e4f3e6; } td.zero { background: #eef2f7; } td.miss { background: #fbe9e7; }
td.late { background: #fdf0d5; } td.due { background: #f7f7f7; color: #777; } td.blank { background: #fff; }
figure { margin: 16px 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 12px; color: #666; }
p.meta { font-size: 13px; color: #555; margin: 2px 0; }
"""
NUMERIC = {"value_text", "last_value_text", "submitted", "rejected_files"}
# A month's cell of the completeness grid, coloured by what `flows.submissions` says of it.
MARK_CLASSES = {"已报": "ok", "已报*": "zero", "零报告": "zero", "逾期": "late", "未到期": "due", "": "blank"}


def data_uri(png: bytes) -> str:
    """Return PNG bytes as a data: URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _cell_class(column: str, value: object) -> str:
    classes = []
    if column in NUMERIC:
        classes.append("num")
    if column == "change_text" and isinstance(value, str) and value[:1] in "+-":
        classes.append("up" if value.startswith("+") else "down")
    if column.startswith("m") and column[1:].isdigit():
        classes.append(MARK_CLASSES.get(value or "", "miss"))
    return f' class="{" ".join(classes)}"' if classes else ""


def html_table(frame: pl.DataFrame, headings: tuple[tuple[str, str], ...], css: str = "") -> str:
    """Return an HTML table of the given (column, heading) pairs, every cell escaped."""
    head = "".join(f"<th>{escape(h)}</th>" for _, h in headings)
    columns = [c for c, _ in headings]
    body = "\n".join(
        "<tr>"
        + "".join(
            f"<td{_cell_class(c, v)}>{escape(cell_text(v))}</td>"
            for c, v in zip(columns, row, strict=True)
        )
        + "</tr>"
        for row in frame.select(columns).iter_rows()
    )
    attr = f' class="{css}"' if css else ""
    return f"<table{attr}>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def render_html(data: ReportData, charts: list[Chart]) -> str:
    """Render the report as a self-contained HTML page (no external files or requests)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        '<head><meta charset="utf-8">',
        f"<title>{escape(report_title(data))}</title>",
        f"<style>{STYLE}</style></head>",
        "<body>",
        f"<h1>{escape(report_title(data))}</h1>",
        *(f'<p class="meta">{escape(line)}</p>' for line in as_of_lines(data)),
    ]
    for level, heading, rows in outline(data):
        parts.append(f"<h{level + 1}>{escape(heading)}</h{level + 1}>")
        if rows is not None:
            parts.append(html_table(rows, INDICATOR_HEADINGS, "indicators"))
    if charts:
        parts.append("<h2>图表</h2>")
        for chart in charts:
            parts.append(
                f'<figure><img alt="{escape(chart.title)}" src="{data_uri(chart.png)}">'
                f"<figcaption>{escape(chart.title)}</figcaption></figure>"
            )
    parts.append("<h2>台账报送情况</h2>")
    parts.append(html_table(data.completeness, COMPLETENESS_HEADINGS, "completeness"))
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"
