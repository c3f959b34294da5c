"""The report as Markdown: one table per section, then data freshness and completeness."""

from __future__ import annotations

import re

import polars as pl

from flows.report.labels import (
    COMPLETENESS_HEADINGS,
    INDICATOR_HEADINGS,
    as_of_lines,
    cell_text,
    outline,
    report_title,
)
from flows.report.tables import ReportData

# The ASCII punctuation that Markdown (CommonMark, GFM) reads as markup inside a line: HTML tags
# and entities (< > &), emphasis and strike-through, code, links and images, table cells. A
# backslash before ASCII punctuation makes it literal, so text from a ledger or a file or
# folder name is shown as written and never becomes markup or raw HTML. Every escaped value
# sits inside a line (a cell, a heading, a list item), where `#`, `-`, `+` and `.` mean nothing;
# an underscore inside a word (`cases_filed`) is no emphasis either, and stays as it is.
MD_SPECIAL = re.compile(r"([\\`*\[\]<>|&~]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z]))")
LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")


def md_text(value: object) -> str:
    """Escape text for inline Markdown: every markup character backslashed, on one line."""
    return MD_SPECIAL.sub(lambda m: "\\" + m.group(), LINE_BREAKS.sub(" ", cell_text(value)))


def md_cell(value: object) -> str:
    """Escape a value for a Markdown table cell (markup characters, pipes, line breaks)."""
    return md_text(value)


def md_table(frame: pl.DataFrame, headings: tuple[tuple[str, str], ...]) -> list[str]:
    """Return the lines of a Markdown table of the given (column, heading) pairs."""
    lines = [
        "| " + " | ".join(md_text(h) for _, h in headings) + " |",
        "| " + " | ".join("---" for _ in headings) + " |",
    ]
    for row in frame.select([c for c, _ in headings]).iter_rows():
        lines.append("| " + " | ".join(md_cell(v) for v in row) + " |")
    return lines


def render_markdown(data: ReportData, chart_files: dict[str, str] | None = None) -> str:
    """Render the report as Markdown; chart_files maps a chart title to an image path to link."""
    lines = [f"# {md_text(report_title(data))}", ""]
    lines += [f"- {md_text(line)}" for line in as_of_lines(data)]
    for level, heading, rows in outline(data):
        lines += ["", f"{'#' * (level + 1)} {md_text(heading)}"]
        if rows is not None:
            lines += ["", *md_table(rows, INDICATOR_HEADINGS)]
    if chart_files:
        lines += ["", "## 图表", ""]
        lines += [f"![{md_text(title)}](<{str(path).replace('>', '%3E').replace('<', '%3C')}>)"
                  for title, path in chart_files.items()]
    lines += ["", "## 台账报送情况", ""]
    lines += md_table(data.completeness, COMPLETENESS_HEADINGS)
    return "\n".join(lines) + "\n"
