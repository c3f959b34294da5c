"""The report as Markdown: one table per section, then data freshness and completeness."""

from __future__ import annotations

import polars as pl

from .labels import (
    COMPLETENESS_HEADINGS,
    INDICATOR_HEADINGS,
    as_of_lines,
    cell_text,
    report_title,
    section_heading,
)
from .tables import ReportData


def md_cell(value: object) -> str:
    """Escape a value for a Markdown table cell (pipes, line breaks)."""
    return (
        cell_text(value)
        .replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("\r", " ")
        .replace("\n", " ")
    )


def md_table(frame: pl.DataFrame, headings: tuple[tuple[str, str], ...]) -> list[str]:
    """Return the lines of a Markdown table of the given (column, heading) pairs."""
    lines = [
        "| " + " | ".join(h for _, h in headings) + " |",
        "| " + " | ".join("---" for _ in headings) + " |",
    ]
    for row in frame.select([c for c, _ in headings]).iter_rows():
        lines.append("| " + " | ".join(md_cell(v) for v in row) + " |")
    return lines


def render_markdown(data: ReportData, chart_files: dict[str, str] | None = None) -> str:
    """Render the report as Markdown; chart_files maps a chart title to an image path to link."""
    lines = [f"# {report_title(data)}", ""]
    lines += [f"- {line}" for line in as_of_lines(data)]
    for section, title, rows in data.sections():
        lines += ["", f"## {section_heading(section, title)}", ""]
        lines += md_table(rows, INDICATOR_HEADINGS)
    if chart_files:
        lines += ["", "## 图表", ""]
        lines += [f"![{title}]({path})" for title, path in chart_files.items()]
    lines += ["", "## 台账报送情况", ""]
    lines += md_table(data.completeness, COMPLETENESS_HEADINGS)
    return "\n".join(lines) + "\n"
