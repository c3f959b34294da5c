"""How a Word document is laid out as a 公文 (GB/T 9704-2012): page, fonts, labels, fitted tables.

The page is A4 with the standard's margins (top 37 mm, bottom 35, left 28, right 26). The
title is in 方正小标宋简体 二号, first-level headings in 黑体 三号, second-level headings in
楷体_GB2312 三号, body text in 仿宋_GB2312 三号 on a fixed 28.9 pt line (22 lines a page).
Chinese font names are set where Word reads them for CJK text (`w:rFonts w:eastAsia`), on
tally's own styles: Word's built-in Title and Heading styles (blue, theme fonts) are never used.

A machine without a 公文 font substitutes one: the document names, in its font table, the
font Word or WPS takes instead (`w:altName`: 仿宋, 楷体, 华文中宋), and `FALLBACKS` lists the
fonts of a Debian machine that stand in for them when the document is rendered there
(`tests/e2e/gongwen-fonts.conf` tells fontconfig so).

A table's columns are as wide as their content at the table's font size (CJK characters one
em, Latin letters and digits half an em); when they do not fit the text width, the widest
wrapping column gives way, to no fewer than half its width (two lines), while columns marked
`keep` (ledger names) never break. If that is not enough, the font steps down.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt

PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210, 297
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
TEXT_WIDTH_MM = PAGE_WIDTH_MM - MARGINS_MM["left"] - MARGINS_MM["right"]  # 156 mm
LANDSCAPE_TEXT_WIDTH_MM = PAGE_HEIGHT_MM - MARGINS_MM["left"] - MARGINS_MM["right"]  # 243 mm

TITLE_FONT = "方正小标宋简体"
HEADING1_FONT = "黑体"
HEADING2_FONT = "楷体_GB2312"
BODY_FONT = "仿宋_GB2312"
PAGE_NUMBER_FONT = "宋体"
# Chinese type sizes (字号) in points.
ERHAO, SANHAO, SIHAO, XIAOSI, WUHAO, XIAOWU = 22, 16, 14, 12, 10.5, 9
BODY_LINE_PT = 28.9  # 22 lines in the 225 mm text height
# The font Word or WPS takes when a 公文 font is not installed (the font table's w:altName).
ALT_NAMES = {TITLE_FONT: "华文中宋", HEADING2_FONT: "楷体", BODY_FONT: "仿宋"}
# The Debian fonts that stand in for them in a render (see tests/e2e/gongwen-fonts.conf).
FALLBACKS = {
    TITLE_FONT: ("华文中宋", "宋体", "Noto Serif CJK SC", "AR PL UMing CN"),
    HEADING1_FONT: ("Noto Sans CJK SC", "WenQuanYi Zen Hei"),
    HEADING2_FONT: ("楷体", "AR PL UKai CN"),
    BODY_FONT: ("仿宋", "Noto Serif CJK SC", "AR PL UMing CN"),
}

STYLE_TITLE, STYLE_H1, STYLE_H2, STYLE_BODY = "公文标题", "公文一级标题", "公文二级标题", "公文正文"
STYLE_TABLE, STYLE_CAPTION = "公文表格", "公文图题"

LEVEL1_LABEL = re.compile(r"^[一二三四五六七八九十]+、")
LEVEL2_LABEL = re.compile(r"^（[一二三四五六七八九十]+）")


# Page and fonts


def set_fonts(rpr, font: str, *, latin: str | None = None) -> None:
    """Name a font in a run's or style's properties: CJK text (w:eastAsia) and Latin text.

    Theme font attributes would win over the names, so they are removed.
    """
    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), latin or font)
    fonts.set(qn("w:eastAsia"), font)


def page_setup(section, *, landscape: bool = False) -> None:
    """Give a section the A4 page and GB/T 9704 margins (portrait, or turned for wide tables)."""
    from docx.enum.section import WD_ORIENT

    width, height = Mm(PAGE_WIDTH_MM), Mm(PAGE_HEIGHT_MM)
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (height, width) if landscape else (width, height)
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])


def _paragraph_style(doc, name: str, font: str, size: float, *, align=None, indent_chars: int = 0,
                     line_pt: float | None = None, outline: int | None = None, latin=None):
    styles = doc.styles
    style = styles[name] if name in [s.name for s in styles] else styles.add_style(
        name, WD_STYLE_TYPE.PARAGRAPH)  # fmt: skip
    style.base_style = None
    style.quick_style = True
    set_fonts(style.element.get_or_add_rPr(), font, latin=latin)
    style.font.size = Pt(size)
    style.font.bold = False
    style.font.color.rgb = None
    pf = style.paragraph_format
    pf.alignment = align
    pf.first_line_indent = Pt(size * indent_chars) if indent_chars else Pt(0)
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    if line_pt:
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        pf.line_spacing = Pt(line_pt)
    else:
        pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
    if outline is not None:  # shown in Word's navigation pane, as a heading would be
        pf.keep_with_next = True  # a heading never ends a page without what it heads
        ppr = style.element.get_or_add_pPr()
        ppr.append(parse_xml(f'<w:outlineLvl {nsdecls("w")} w:val="{outline}"/>'))
    return style


def gongwen_styles(doc) -> None:
    """Add tally's 公文 styles to a document and make its defaults 仿宋 三号, no theme fonts."""
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
        if rpr is not None:
            set_fonts(rpr, BODY_FONT)
    normal = doc.styles["Normal"]
    set_fonts(normal.element.get_or_add_rPr(), BODY_FONT)
    normal.font.size = Pt(SANHAO)
    _paragraph_style(doc, STYLE_TITLE, TITLE_FONT, ERHAO, align=WD_ALIGN_PARAGRAPH.CENTER,
                     line_pt=36, outline=0)  # fmt: skip
    _paragraph_style(doc, STYLE_H1, HEADING1_FONT, SANHAO, indent_chars=2, line_pt=BODY_LINE_PT,
                     outline=1)  # fmt: skip
    _paragraph_style(doc, STYLE_H2, HEADING2_FONT, SANHAO, indent_chars=2, line_pt=BODY_LINE_PT,
                     outline=2)  # fmt: skip
    _paragraph_style(doc, STYLE_BODY, BODY_FONT, SANHAO, align=WD_ALIGN_PARAGRAPH.JUSTIFY,
                     indent_chars=2, line_pt=BODY_LINE_PT)  # fmt: skip
    _paragraph_style(doc, STYLE_TABLE, BODY_FONT, XIAOSI)
    # The grid style's own cell margins too: LibreOffice takes them over the table's.
    grid = doc.styles["Table Grid"].element
    for side in ("left", "right"):
        for mar in grid.iter(qn(f"w:{side}")):
            if mar.getparent().tag == qn("w:tblCellMar"):
                mar.set(qn("w:w"), str(CELL_MARGIN_TWIPS))
    _paragraph_style(doc, STYLE_CAPTION, BODY_FONT, SIHAO, align=WD_ALIGN_PARAGRAPH.CENTER)


def font_alternatives(doc) -> None:
    """Name in the font table the font that stands in for each 公文 font that is missing."""
    for rel in doc.part.rels.values():
        if rel.reltype.endswith("/fontTable"):
            part = rel.target_part
            root = parse_xml(part.blob)
            for font, alt in ALT_NAMES.items():
                entry = parse_xml(
                    f'<w:font {nsdecls("w")} w:name="{font}"><w:altName w:val="{alt}"/>'
                    '<w:charset w:val="86"/><w:family w:val="modern"/></w:font>'
                )
                root.append(entry)
            from lxml import etree

            part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                        standalone=True)  # fmt: skip


def page_number_footer(section) -> None:
    """Put the page number, as `— 1 —` in 宋体 四号, at the foot of every page."""
    footer = section.footer
    para = footer.paragraphs[0]
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for text in ("— ", None, " —"):
        run = para.add_run(text or "")
        set_fonts(run._r.get_or_add_rPr(), PAGE_NUMBER_FONT, latin=PAGE_NUMBER_FONT)
        run.font.size = Pt(SIHAO)
        if text is None:  # Word and LibreOffice fill the PAGE field in as they lay out the page
            run._r.append(parse_xml(f'<w:fldChar {nsdecls("w")} w:fldCharType="begin"/>'))
            run._r.append(parse_xml(f'<w:instrText {nsdecls("w")} xml:space="preserve"> PAGE </w:instrText>'))
            run._r.append(parse_xml(f'<w:fldChar {nsdecls("w")} w:fldCharType="separate"/>'))
            run._r.append(parse_xml(f'<w:t {nsdecls("w")}>1</w:t>'))
            run._r.append(parse_xml(f'<w:fldChar {nsdecls("w")} w:fldCharType="end"/>'))


# Tables


def text_em(text: str) -> float:
    """Return how wide a line of text is, in ems: CJK and full-width characters 1, others 0.5."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 0.6 for ch in text)


@dataclass(frozen=True)
class Column:
    """One column of a fitted table: its heading, how it aligns, and whether it may break."""

    heading: str
    numeric: bool = False  # right-aligned
    keep: bool = False  # never broken over lines (a ledger's name)


CELL_MARGIN_TWIPS = 57  # 1 mm each side of a cell's text (Word's Table Grid has 1.9 mm)


def pad_mm(size_pt: float) -> float:
    """Return the width a cell adds to its text: margins, borders, and air for font metrics."""
    return 2 * CELL_MARGIN_TWIPS * 25.4 / 1440 + 0.2 + 0.3 * size_pt * 25.4 / 72


def fit_widths(columns: list[Column], rows: list[list[str]], size_pt: float,
               available_mm: float) -> list[float] | None:
    """Return column widths (mm) that fit the text width at a font size, or None if none do."""
    em_mm = size_pt * 25.4 / 72
    natural, least = [], []
    for i, col in enumerate(columns):
        cells = [r[i] for r in rows]
        widest = max([text_em(c) for c in cells] or [0])
        # A heading of more than three characters may take two lines (`heading_lines`): the
        # longer of them is as narrow as its column gets.
        head = text_em(col.heading)
        if len(col.heading) > 3:
            head = max(text_em(x) for x in heading_lines(col.heading))
        natural.append(max(widest, head) * em_mm + pad_mm(size_pt))
        floor = max(widest if (col.keep or col.numeric) else -(-widest // 2), head) * em_mm
        least.append(floor + pad_mm(size_pt))
    widths = natural[:]
    excess = sum(widths) - available_mm
    # The widest wrapping columns give way first, each down to its floor.
    for i in sorted(range(len(columns)), key=lambda k: widths[k] - least[k], reverse=True):
        if excess <= 0:
            break
        give = min(widths[i] - least[i], excess)
        widths[i] -= give
        excess -= give
    if excess > 0.01:
        return None
    spare = available_mm - sum(widths)
    if spare > 0 and widths:  # leftover width goes to the first (name) column
        widths[0] += spare
    return widths


def fitted_table(doc, columns: list[Column], rows: list[list[str]], *, size_pt: float = XIAOSI,
                 available_mm: float = TEXT_WIDTH_MM, min_size_pt: float = 7.5):
    """Add a grid table whose column widths fit its content; numbers right, headings in 黑体."""
    size = size_pt
    widths = fit_widths(columns, rows, size, available_mm)
    while widths is None and size > min_size_pt:
        size -= 0.5
        widths = fit_widths(columns, rows, size, available_mm)
    if widths is None:  # nothing fits: equal shares of the width, wrapping as it must
        widths = [available_mm / len(columns)] * len(columns)
    table = doc.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    # Narrow cell margins (1 mm a side, Word's default is 1.9 mm): tblCellMar goes right
    # before tblLook, where the schema has it (autofit off already wrote tblLayout fixed).
    margins = parse_xml(
        f'<w:tblCellMar {nsdecls("w")}><w:left w:w="{CELL_MARGIN_TWIPS}" w:type="dxa"/>'
        f'<w:right w:w="{CELL_MARGIN_TWIPS}" w:type="dxa"/></w:tblCellMar>'
    )  # fmt: skip
    look = table._tbl.tblPr.find(qn("w:tblLook"))
    if look is not None:
        look.addprevious(margins)
    else:
        table._tbl.tblPr.append(margins)
    for col, width in zip(table.columns, widths, strict=True):
        col.width = Mm(width)
    header = table.rows[0]
    # The heading row repeats at the top of each page the table runs onto.
    header._tr.get_or_add_trPr().append(parse_xml(f'<w:tblHeader {nsdecls("w")}/>'))
    em_mm = size * 25.4 / 72
    for cell, col, width in zip(header.cells, columns, widths, strict=True):
        fits = text_em(col.heading) * em_mm + pad_mm(size) <= width + 0.01
        lines = [col.heading] if fits else heading_lines(col.heading)
        _cell_text(cell, lines, size, width, WD_ALIGN_PARAGRAPH.CENTER, HEADING1_FONT)
    for values in rows:
        cells = table.add_row().cells
        for cell, col, width, text in zip(cells, columns, widths, values, strict=True):
            align = WD_ALIGN_PARAGRAPH.RIGHT if col.numeric else WD_ALIGN_PARAGRAPH.LEFT
            _cell_text(cell, text, size, width, align, BODY_FONT)
    return table


def heading_lines(heading: str) -> list[str]:
    """Split a column heading into two balanced lines (before a bracket when it has one)."""
    if "（" in heading and heading.index("（") > 0:
        cut = heading.index("（")
    else:
        cut = -(-len(heading) // 2)
    return [heading[:cut], heading[cut:]]


def _cell_text(cell, text: str | list[str], size: float, width_mm: float, align, font: str) -> None:
    cell.width = Mm(width_mm)
    para = cell.paragraphs[0]
    para.style = STYLE_TABLE
    para.alignment = align
    lines = [text] if isinstance(text, str) else text
    for i, line in enumerate(lines):
        run = para.add_run(line)
        set_fonts(run._r.get_or_add_rPr(), font)
        run.font.size = Pt(size)
        if i < len(lines) - 1:  # a line break of our choosing: a heading never wraps one character over
            run.add_break()
