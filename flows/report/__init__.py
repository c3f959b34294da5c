"""Report outputs: the year's indicator tables with last year's values, charts, in four formats.

`load_report(con, year)` reads the content once; `write_report` renders it as DOCX, XLSX,
Markdown or a self-contained HTML page.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import TYPE_CHECKING

from flows.report.tables import ReportData, load_report

if TYPE_CHECKING:  # matplotlib costs most of a second: only the commands that draw load it
    from flows.report.charts import Chart


class ReportFormat(enum.StrEnum):
    docx = "docx"
    xlsx = "xlsx"
    md = "md"
    html = "html"


def render_text(data: ReportData, fmt: ReportFormat, charts: list[Chart] | None = None) -> str:
    """Render a text format (md or html) to a string; html draws the charts when not given."""
    from flows.report.charts import report_charts
    from flows.report.html import render_html
    from flows.report.markdown import render_markdown

    if fmt == ReportFormat.md:
        return render_markdown(data)
    if fmt == ReportFormat.html:
        return render_html(data, report_charts(data) if charts is None else charts)
    raise ValueError(f"{fmt} is not a text format")


def write_report(
    data: ReportData, fmt: ReportFormat | str, out: Path, charts: list[Chart] | None = None
) -> Path:
    """Render the report in a format (docx, xlsx, md, html) to a file; return its path."""
    from flows.report.charts import report_charts
    from flows.report.docx import render_docx
    from flows.report.xlsx import render_xlsx

    fmt = ReportFormat(fmt)
    if charts is None and fmt != ReportFormat.md:
        charts = report_charts(data)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt in (ReportFormat.md, ReportFormat.html):
        out.write_text(render_text(data, fmt, charts), encoding="utf-8")
    elif fmt == ReportFormat.docx:
        render_docx(data, charts, out)
    else:
        render_xlsx(data, charts, out)
    return out


def default_path(year: int, fmt: ReportFormat | str) -> Path:
    """Return the file a report is written to when no --out is given."""
    return Path(f"report-{year}.{ReportFormat(fmt).value}")


__all__ = [
    "ReportData", "ReportFormat", "default_path", "load_report", "render_text",
    "write_report",
]  # fmt: skip
