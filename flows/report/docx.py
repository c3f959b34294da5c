"""The report as a Word document (python-docx): section tables, charts and completeness."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from flows.report.charts import Chart
from flows.report.labels import (
    COMPLETENESS_HEADINGS,
    INDICATOR_HEADINGS,
    as_of_lines,
    cell_text,
    report_title,
    section_heading,
)
from flows.report.tables import ReportData

EAST_ASIAN_FONT = "宋体"
HEADING_FONT = "黑体"


def _east_asian(style, font: str) -> None:
    """Give a style a Chinese font (Word reads w:eastAsia for CJK text, not the Latin name)."""
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), font)


def docx_table(doc, frame: pl.DataFrame, headings: tuple[tuple[str, str], ...], font_pt: float = 9):
    """Add a grid table of the given (column, heading) pairs to the document."""
    columns = [c for c, _ in headings]
    table = doc.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    for cell, (_, heading) in zip(table.rows[0].cells, headings, strict=True):
        cell.text = heading
        for run in cell.paragraphs[0].runs:
            run.bold = True
            run.font.size = Pt(font_pt)
    for row in frame.select(columns).iter_rows():
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = cell_text(value)
            for run in cell.paragraphs[0].runs:
                run.font.size = Pt(font_pt)
    return table


def render_docx(data: ReportData, charts: list[Chart], target: Path | io.BytesIO) -> None:
    """Write the report as a .docx: title, freshness, one table per section, charts, completeness."""
    doc = Document()
    _east_asian(doc.styles["Normal"], EAST_ASIAN_FONT)
    for name in ("Title", "Heading 1", "Heading 2"):
        _east_asian(doc.styles[name], HEADING_FONT)
    doc.core_properties.title = report_title(data)
    doc.add_heading(report_title(data), level=0)
    for line in as_of_lines(data):
        para = doc.add_paragraph(line)
        para.runs[0].font.color.rgb = RGBColor(0x55, 0x55, 0x55)
    for section, title, rows in data.sections():
        doc.add_heading(section_heading(section, title), level=1)
        docx_table(doc, rows, INDICATOR_HEADINGS)
    if charts:
        doc.add_heading("图表", level=1)
        for chart in charts:
            doc.add_picture(io.BytesIO(chart.png), width=Cm(16))
            doc.add_paragraph(chart.title).alignment = 1
    # Twelve month columns need the width of a landscape page.
    landscape = doc.add_section()
    landscape.orientation = WD_ORIENT.LANDSCAPE
    landscape.page_width, landscape.page_height = landscape.page_height, landscape.page_width
    doc.add_heading("台账报送情况", level=1)
    docx_table(doc, data.completeness, COMPLETENESS_HEADINGS, font_pt=7.5)
    doc.save(target)
