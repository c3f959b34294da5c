"""The report as a Word document (python-docx), laid out as a 公文: see `flows.report.gongwen`.

Title, the data's freshness, a fitted table per section under 公文 headings (一、 （二）),
the charts, and on a landscape page the completeness grid.
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import polars as pl
from docx import Document
from docx.shared import Mm

from flows.report.charts import Chart
from flows.report.gongwen import (
    LANDSCAPE_TEXT_WIDTH_MM,
    STYLE_BODY,
    STYLE_CAPTION,
    STYLE_H1,
    STYLE_H2,
    STYLE_TITLE,
    TEXT_WIDTH_MM,
    XIAOSI,
    XIAOWU,
    Column,
    fitted_table,
    font_alternatives,
    gongwen_styles,
    page_number_footer,
    page_setup,
)
from flows.report.labels import as_of_lines, cell_text, outline, report_title
from flows.report.tables import ReportData

# The indicator table of a section: the unit sits in the heading of the name column, beside
# each name, so that the number columns hold numbers only, right-aligned.
INDICATOR_COLUMNS = (
    Column("指标（单位）"), Column("报告写法"), Column("数值", numeric=True),
    Column("上年数值", numeric=True), Column("同比变化", numeric=True),
)  # fmt: skip
# The completeness grid of the Word report: a ledger's name is never broken over lines; the
# months lists are in the grid itself, so only the counts follow it.
COMPLETENESS_COLUMNS = (
    Column("台账", keep=True), Column("报送单位", keep=True),
    *(Column(f"{m}月", keep=True) for m in range(1, 13)),
    Column("已报（个）", numeric=True), Column("退回文件（个）", numeric=True), Column("备注"),
)  # fmt: skip


def indicator_rows(rows: pl.DataFrame) -> list[list[str]]:
    """Return a section's rows as the Word table shows them: name (unit), printed, numbers."""
    return [
        [f"{r['name_zh']}（{r['unit']}）", cell_text(r["printed"]), cell_text(r["value_text"]),
         cell_text(r["last_value_text"]), cell_text(r["change_text"])]
        for r in rows.iter_rows(named=True)
    ]  # fmt: skip


def completeness_rows(frame: pl.DataFrame) -> list[list[str]]:
    """Return the completeness grid's rows as the Word table shows them."""
    return [
        [cell_text(r["ledger_zh"]), cell_text(r["unit_zh"]),
         *(cell_text(r[f"m{m:02d}"]) for m in range(1, 13)),
         cell_text(r["submitted"]), cell_text(r["rejected_files"]), cell_text(r["note"])]
        for r in frame.iter_rows(named=True)
    ]  # fmt: skip


def docx_table(doc, frame: pl.DataFrame, headings: tuple[tuple[str, str], ...], font_pt: float = XIAOSI):
    """Add a fitted grid table of the given (column, heading) pairs to the document."""
    columns = [Column(h) for _, h in headings]
    rows = [[cell_text(v) for v in row] for row in frame.select([c for c, _ in headings]).iter_rows()]
    return fitted_table(doc, columns, rows, size_pt=font_pt)


def render_docx(data: ReportData, charts: list[Chart], target: Path | io.BytesIO) -> None:
    """Write the report as a .docx: title, freshness, one table per section, charts, completeness."""
    doc = Document()
    gongwen_styles(doc)
    font_alternatives(doc)
    page_setup(doc.sections[0])
    page_number_footer(doc.sections[0])
    doc.core_properties.title = report_title(data)
    title = doc.add_paragraph(style=STYLE_TITLE)
    # A 公文 title breaks where the words do: the bureau on its own line, then the report's name.
    lines = [data.bureau, report_title(replace(data, bureau=""))] if data.bureau else [report_title(data)]
    for i, line in enumerate(lines):
        run = title.add_run(line)
        if i < len(lines) - 1:
            run.add_break()
    doc.add_paragraph("", style=STYLE_BODY)
    for line in as_of_lines(data):
        doc.add_paragraph(line, style=STYLE_BODY)
    for level, heading, rows in outline(data):
        doc.add_paragraph(heading, style=STYLE_H1 if level == 1 else STYLE_H2)
        if rows is not None:
            fitted_table(doc, list(INDICATOR_COLUMNS), indicator_rows(rows), size_pt=XIAOSI,
                         available_mm=TEXT_WIDTH_MM)  # fmt: skip
    if charts:
        doc.add_paragraph("附图　主要指标图表", style=STYLE_H1)
        for number, chart in enumerate(charts, start=1):
            doc.add_picture(io.BytesIO(chart.png), width=Mm(TEXT_WIDTH_MM))
            doc.paragraphs[-1].style = doc.styles[STYLE_CAPTION]
            doc.paragraphs[-1].paragraph_format.keep_with_next = True  # the caption stays with it
            doc.add_paragraph(f"图{number}　{chart.title}", style=STYLE_CAPTION)
    # Twelve month columns need the width of a landscape page.
    landscape = doc.add_section()
    page_setup(landscape, landscape=True)
    doc.add_paragraph("附表　台账报送情况", style=STYLE_H1)
    fitted_table(doc, list(COMPLETENESS_COLUMNS), completeness_rows(data.completeness),
                 size_pt=XIAOWU, available_mm=LANDSCAPE_TEXT_WIDTH_MM)  # fmt: skip
    doc.save(target)
