"""The column headings and wording every report format shares (Chinese: the clerk reads them)."""

from __future__ import annotations

from .completeness import completeness_summary
from .reported import NO_DATA, NO_DATA_ZH
from .tables import ReportData

# (row column, heading) of an indicator table, in display order.
INDICATOR_HEADINGS = (
    ("name_zh", "指标"),
    ("printed", "报告写法"),
    ("value_text", "数值"),
    ("unit", "单位"),
    ("last_value_text", "上年数值"),
    ("change_text", "同比变化"),
)
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
    """Return a section's heading as the report numbers it (一(二) 文化市场监管执法)."""
    return f"{section} {title}"


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
