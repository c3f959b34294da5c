"""A city's or the province's report: the figures per county and the total, and who is late.

`tally report --org CODE` writes it as Markdown, HTML, an Excel workbook or a Word file, from
`flows.report.org_figures` (the same figures `tally indicators --org` prints). A county that
sent nothing for the year is named as late, in the table (未报) and in a line of its own.
"""

from __future__ import annotations

import html
from pathlib import Path

import polars as pl

from flows.report.markdown import md_cell, md_text
from flows.report.org_figures import LATE, OrgFigures, completeness_matrix


def title(figures: OrgFigures) -> str:
    """The report's title: the org's name and the year."""
    return f"{figures.unit.name_zh}（{figures.unit.code}）{figures.year} 年度指标（按县区）"


def late_line(figures: OrgFigures) -> str:
    """One line naming the counties that sent nothing for the year, or saying none did."""
    names = [c.name_zh for c in figures.counties if c.code in figures.late]
    line = ("所辖县区均已报送。" if not names
            else f"{LATE}（本年没有任何台账）：{'、'.join(names)}；合计不含这些县区。")
    return line + signoff_line(figures)


def signoff_line(figures: OrgFigures) -> str:
    """Which counties' figures are signed (read at their signed snapshot) and which are current; '' for a single file."""
    if figures.signed is None or (len(figures.counties) == 1 and not figures.signed):
        return ""
    signed = [f"{c.name_zh}（快照 {figures.signed[c.code]}）" for c in figures.counties if c.code in figures.signed]
    unsigned = [c.name_zh for c in figures.counties if c.code not in figures.signed and c.code not in figures.late]
    parts = [f"已签核 · signed：{'、'.join(signed)}"] if signed else []
    parts += [f"未签核（当前数据）· unsigned, current figures：{'、'.join(unsigned)}"] if unsigned else []
    return " " + "；".join(parts) + "。" if parts else ""


def render_markdown(figures: OrgFigures, completeness: pl.DataFrame) -> str:
    """Return the report as Markdown: the title, the late counties, the figures, the completeness."""
    text = figures.text(printed=True)
    lines = [f"# {md_text(title(figures))}", "", md_text(late_line(figures)), "", "## 指标", ""]
    lines += md_rows(text.drop("code"))
    matrix = completeness_matrix(completeness, figures.counties)
    if not matrix.is_empty():
        lines += ["", "## 报送情况", "", *md_rows(matrix)]
    return "\n".join(lines) + "\n"


def md_rows(frame: pl.DataFrame) -> list[str]:
    """Return the lines of a Markdown table of a frame, every cell escaped."""
    lines = ["| " + " | ".join(md_cell(c) for c in frame.columns) + " |", "|" + " --- |" * frame.width]
    return lines + ["| " + " | ".join(md_cell("" if v is None else v) for v in row) + " |" for row in frame.iter_rows()]


def render_html(figures: OrgFigures, completeness: pl.DataFrame) -> str:
    """Return the report as a self-contained HTML page, every value escaped."""
    def table(frame: pl.DataFrame) -> str:
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in row) + "</tr>"
                       for row in frame.iter_rows())
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    matrix = completeness_matrix(completeness, figures.counties)
    parts = [f"<h1>{html.escape(title(figures))}</h1>", f"<p>{html.escape(late_line(figures))}</p>",
             "<h2>指标</h2>", table(figures.text(printed=True).drop("code"))]
    if not matrix.is_empty():
        parts += ["<h2>报送情况</h2>", table(matrix)]
    style = ("body{font-family:sans-serif}table{border-collapse:collapse}"
             "td,th{border:1px solid #999;padding:2px 6px}td{text-align:right}")
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title(figures))}'
            f"</title><style>{style}</style></head><body>{''.join(parts)}</body></html>\n")


def numbers_frame(figures: OrgFigures) -> pl.DataFrame:
    """Return the figures with numbers as numbers (a late county's column says 未报), for a workbook."""
    table = figures.table
    columns: dict[str, list] = {"代码 code": table["code"].to_list(), "指标": table["name_zh"].to_list(),
                                "单位": table["unit"].to_list()}
    for county in figures.counties:
        values = table[county.code].to_list()
        columns[county.name_zh] = [LATE] * len(values) if county.code in figures.late else values
    if len(figures.counties) > 1:
        columns["合计"] = table["total"].to_list()
    return pl.DataFrame(columns, strict=False)


def write_org_report(figures: OrgFigures, completeness: pl.DataFrame, fmt: str, out: Path) -> Path:
    """Write the report in `fmt` (md, html, xlsx, docx) to `out`; return the path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "md":
        out.write_text(render_markdown(figures, completeness), encoding="utf-8")
    elif fmt == "html":
        out.write_text(render_html(figures, completeness), encoding="utf-8")
    elif fmt == "xlsx":
        from flows.report.xlsx import write_workbook

        sheets = {"指标": numbers_frame(figures), "未报县区": pl.DataFrame({"说明": [late_line(figures)]})}
        matrix = completeness_matrix(completeness, figures.counties)
        if not matrix.is_empty():
            sheets["报送情况"] = matrix
        write_workbook(out, sheets)
    else:
        _write_docx(figures, completeness, out)
    return out


def _write_docx(figures: OrgFigures, completeness: pl.DataFrame, out: Path) -> None:
    from docx import Document

    doc = Document()
    doc.add_heading(title(figures), level=1)
    doc.add_paragraph(late_line(figures))
    for heading, frame in (("指标", figures.text(printed=True).drop("code")),
                           ("报送情况", completeness_matrix(completeness, figures.counties))):
        if frame.is_empty():
            continue
        doc.add_heading(heading, level=2)
        grid = doc.add_table(rows=1, cols=frame.width)
        grid.style = "Table Grid"
        for cell, name in zip(grid.rows[0].cells, frame.columns, strict=True):
            cell.text = str(name)
        for row in frame.iter_rows():
            for cell, value in zip(grid.add_row().cells, row, strict=True):
                cell.text = "" if value is None else str(value)
    doc.save(str(out))
