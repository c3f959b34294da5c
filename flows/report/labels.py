"""The column headings and wording every report format shares (Chinese: the clerk reads them)."""

from __future__ import annotations

import re

import polars as pl

from flows.report.completeness import completeness_summary
from flows.report.reported import NO_DATA, NO_DATA_ZH
from flows.report.tables import ReportData

SECTION_KEY = re.compile(r"^([一二三四五六七八九十]+)(?:\(([一二三四五六七八九十]+)\))?$")


def level1(numeral: str, title: str) -> str:
    """Return a first-level heading as a 公文 numbers it: 一、title."""
    return f"{numeral}、{title}"


def level2(numeral: str, title: str) -> str:
    """Return a second-level heading with full-width brackets: （二）title."""
    return f"（{numeral}）{title}"


def split_section(section: str) -> tuple[str, str | None]:
    """Split a catalog section key (`一(二)`, `二`) into its chapter and sub-section numerals."""
    found = SECTION_KEY.match(section)
    if not found:
        return section, None
    return found.group(1), found.group(2)


# (row column, heading) of an indicator table, in display order.
INDICATOR_HEADINGS = (
    ("name_zh", "指标"),
    ("printed", "报告写法"),
    ("value_text", "数值"),
    ("unit", "单位"),
    ("last_value_text", "上年数值"),
    ("change_text", "同比变化"),
)
# The titles of chapters whose figures sit in sub-sections (tally's own short wording).
CHAPTER_TITLES = {"一": "主要举措和成效"}
MONTH_HEADINGS = tuple(f"{m}月" for m in range(1, 13))
COMPLETENESS_HEADINGS = (
    ("ledger_zh", "台账"),
    ("unit_zh", "报送单位"),
    *((f"m{m:02d}", f"{m}月") for m in range(1, 13)),
    ("submitted", "已报月数"),
    ("late_months", "逾期月份"),
    ("missing_months", "未报月份"),
    ("rejected_files", "退回文件"),
    ("note", "备注"),
)


def report_title(data: ReportData) -> str:
    """Return the report's title line."""
    return f"{data.bureau}{data.year}年度法治政府建设报告 · 指标数据"


def section_heading(section: str, title: str) -> str:
    """Return a section's heading as a 公文 numbers it: （二）文化市场监管执法, 二、title."""
    chapter, sub = split_section(section)
    return level2(sub, title) if sub else level1(chapter, title)


def section_label(section: str, title: str) -> str:
    """Return a section's label with its chapter, for a column of a table: 一（二）文化市场监管执法."""
    chapter, sub = split_section(section)
    return f"{chapter}（{sub}）{title}" if sub else level1(chapter, title)


def outline(data: ReportData) -> list[tuple[int, str, pl.DataFrame | None]]:
    """Return the report's headings in order, (level, heading, rows or None for a chapter line).

    A chapter whose sections are sub-sections (一(二), 一(三)) gets its own line first
    (一、主要举措和成效), then each sub-section its （二） heading and table.
    """
    out: list[tuple[int, str, pl.DataFrame | None]] = []
    chapters_seen: set[str] = set()
    for section, title, rows in data.sections():
        chapter, sub = split_section(section)
        if sub is None:
            out.append((1, level1(chapter, title), rows))
            continue
        if chapter not in chapters_seen:
            out.append((1, level1(chapter, CHAPTER_TITLES.get(chapter, "")), None))
        out.append((2, level2(sub, title), rows))
        chapters_seen.add(chapter)
    return out


def as_of_lines(data: ReportData) -> list[str]:
    """Return the lines that say how fresh and how complete the year's data is."""
    a = data.as_of
    seen = a.latest_file_seen_at.strftime("%Y-%m-%d %H:%M") if a.latest_file_seen_at else "—"
    return [
        f"数据截至：最新记录日期 {a.latest_row_date.isoformat() if a.latest_row_date else '—'}；"
        f"最近载入文件 {a.latest_file or '—'}（{seen}）",
        f"数据完整性：{completeness_summary(data.completeness)}（按台账与月份统计，见下表）",
        f"“{NO_DATA}”表示该年度未报送计算该指标的台账（如{NO_DATA_ZH}），不作同比",
    ]


def cell_text(value: object) -> str:
    """Write a cell for display: empty for missing values, else the value's text."""
    if value is None:
        return ""
    return str(value)
