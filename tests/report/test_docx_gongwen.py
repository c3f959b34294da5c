"""The Word report is laid out as a 公文 (GB/T 9704): page, margins, fonts, labels, fitted tables.

Read back with python-docx; the render itself (LibreOffice to PDF and PNG) is `make e2e`.
"""

from __future__ import annotations

import re
import zipfile

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from reportdata import build_warehouse

from flows.load.warehouse import connect
from flows.report import load_report, write_report
from flows.report.gongwen import (
    LEVEL1_LABEL,
    LEVEL2_LABEL,
    Column,
    fit_widths,
    heading_lines,
    pad_mm,
    text_em,
)

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture(scope="module")
def docx_path(tmp_path_factory):
    root = tmp_path_factory.mktemp("gongwen")
    warehouse = build_warehouse(root)
    with connect(warehouse, read_only=True) as con:
        data = load_report(con, 2024, "某县文化旅游广电局")
    return write_report(data, "docx", root / "report.docx", charts=[])


@pytest.fixture(scope="module")
def doc(docx_path):
    return Document(str(docx_path))


def east_asian(element) -> str | None:
    """The w:eastAsia font named in an element's (style's or run's) run properties."""
    rpr = element.find(qn("w:rPr"))
    fonts = None if rpr is None else rpr.find(qn("w:rFonts"))
    return None if fonts is None else fonts.get(qn("w:eastAsia"))


def mm(length) -> float:
    return round(length.mm, 1)


def test_a4_with_the_standards_margins(doc):
    portrait, landscape = doc.sections
    assert (mm(portrait.page_width), mm(portrait.page_height)) == (210.0, 297.0)
    assert portrait.orientation == WD_ORIENT.PORTRAIT
    for section in (portrait, landscape):
        assert (mm(section.top_margin), mm(section.bottom_margin)) == (37.0, 35.0)
        assert (mm(section.left_margin), mm(section.right_margin)) == (28.0, 26.0)
    assert (mm(landscape.page_width), mm(landscape.page_height)) == (297.0, 210.0)
    assert landscape.orientation == WD_ORIENT.LANDSCAPE


def test_title_headings_and_body_in_their_fonts(doc):
    by_style: dict[str, list] = {}
    for para in doc.paragraphs:
        by_style.setdefault(para.style.name, []).append(para)
    assert not [name for name in by_style if name == "Title" or name.startswith("Heading")]
    expected = {"公文标题": ("方正小标宋简体", 22), "公文一级标题": ("黑体", 16),
                "公文二级标题": ("楷体_GB2312", 16), "公文正文": ("仿宋_GB2312", 16)}  # fmt: skip
    for name, (font, size) in expected.items():
        style = doc.styles[name]
        assert east_asian(style.element) == font, name
        assert style.font.size.pt == size, name
        assert style.font.color.rgb is None and not style.font.bold, name  # black, not Word's blue
    title = by_style["公文标题"][0]
    assert title.text == "某县文化旅游广电局\n2024年度法治政府建设报告 · 指标数据"  # broken after the bureau
    assert doc.styles["公文标题"].paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    body = doc.styles["公文正文"].paragraph_format
    assert (body.line_spacing_rule, body.line_spacing.pt) == (WD_LINE_SPACING.EXACTLY, 28.9)
    assert body.first_line_indent.pt == 32  # two characters of 三号
    # The document's defaults name 仿宋 too, and no theme font that would override the names.
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    fonts = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:rFonts')}")
    assert fonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert not [a for a in fonts.attrib if a.endswith("Theme") or a.endswith("theme")]


def test_section_labels_are_numbered_as_a_gongwen(doc):
    level1 = [p.text for p in doc.paragraphs if p.style.name == "公文一级标题"]
    level2 = [p.text for p in doc.paragraphs if p.style.name == "公文二级标题"]
    assert level1[:3] == ["一、主要举措和成效", "二、主要负责人履职与学法培训", "三、存在的不足"]
    assert level2 == ["（二）文化市场监管执法", "（三）法治宣传教育", "（四）严格规范公正文明执法"]
    assert all(LEVEL1_LABEL.match(t) for t in level1[:3])
    assert all(LEVEL2_LABEL.match(t) for t in level2)
    assert not any("(" in t or ")" in t for t in level1 + level2)  # no ASCII brackets


def test_numbers_right_aligned_units_in_the_heading(doc):
    table = doc.tables[0]
    headings = [c.text.replace("\n", "") for c in table.rows[0].cells]
    assert headings == ["指标（单位）", "报告写法", "数值", "上年数值", "同比变化"]
    assert all(east_asian(r._r) == "黑体" for c in table.rows[0].cells for r in c.paragraphs[0].runs)
    for row in table.rows[1:]:
        aligns = [c.paragraphs[0].alignment for c in row.cells]
        assert aligns == [WD_ALIGN_PARAGRAPH.LEFT] * 2 + [WD_ALIGN_PARAGRAPH.RIGHT] * 3
        assert re.fullmatch(r".+（.+）", row.cells[0].text)
        assert all(east_asian(r._r) == "仿宋_GB2312" for r in row.cells[0].paragraphs[0].runs)
    names = {r.cells[0].text: [c.text for c in r.cells] for r in table.rows[1:]}
    assert names["出动检查人次（人次）"] == ["出动检查人次（人次）", "21余人次", "21", "4", "+17"]


def test_columns_fit_their_content(doc):
    for table in doc.tables[:-1]:
        widths = [c.width.mm for c in table.columns]
        assert sum(widths) == pytest.approx(156, abs=0.2)  # the text width, 210 − 28 − 26
        size = table.rows[1].cells[0].paragraphs[0].runs[0].font.size.pt
        em = size * 25.4 / 72
        longest = max(text_em(r.cells[0].text) for r in table.rows[1:])
        assert (widths[0] - pad_mm(size)) / em >= longest / 2  # an indicator name takes two lines at most
        for col in range(1, 5):  # the printed figures and the numbers are never broken
            cells = [r.cells[col].text for r in table.rows[1:]]
            assert widths[col] - pad_mm(size) + 0.01 >= max(text_em(c) for c in cells) * em
    grid = doc.tables[-1]
    widths = [c.width.mm for c in grid.columns]
    assert sum(widths) == pytest.approx(243, abs=0.2)
    size = grid.rows[1].cells[0].paragraphs[0].runs[0].font.size.pt
    em = size * 25.4 / 72
    ledgers = [r.cells[0].text for r in grid.rows[1:]]
    assert "12345热线工单台账" in ledgers
    assert widths[0] - pad_mm(size) + 0.01 >= text_em("12345热线工单台账") * em  # never broken mid-word
    assert [c.text.replace("\n", "") for c in grid.rows[0].cells][:3] == ["台账", "报送单位", "1月"]


def test_the_fit_gives_way_on_the_name_and_steps_the_font_down():
    columns = [Column("指标（单位）"), Column("数值", numeric=True)]
    rows = [["很" * 30, "123456"]]
    widths = fit_widths(columns, rows, 12, 100)
    em = 12 * 25.4 / 72
    assert sum(widths) == pytest.approx(100)
    assert widths[1] >= text_em("123456") * em + pad_mm(12) - 0.01
    assert fit_widths(columns, rows, 12, 30) is None  # even two lines of the name do not fit
    assert heading_lines("已报（个）") == ["已报", "（个）"] and heading_lines("同比变化") == ["同比", "变化"]


def test_missing_fonts_have_a_named_stand_in_and_pages_are_numbered(docx_path):
    with zipfile.ZipFile(docx_path) as z:
        fonts = z.read("word/fontTable.xml").decode()
        footer = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("word/footer"))
    assert '<w:font w:name="仿宋_GB2312"><w:altName w:val="仿宋"/>' in fonts
    assert '<w:font w:name="楷体_GB2312"><w:altName w:val="楷体"/>' in fonts
    assert "PAGE" in footer and "— " in footer
