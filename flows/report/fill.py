"""`tally fill`: the writer's own Word draft, its placeholders replaced by the year's figures.

A placeholder is `{{NAME}}` or `{{NAME|FORM}}`, NAME an indicator's code or its Chinese name
(`{{inspector_person_times}}`, `{{出动检查人次}}`), FORM one of FORMS (default `printed`), and
`{{表:SECTION}}` (or `{{table:SECTION}}`) inserts a section's indicator table (`{{表:一(二)}}`).
Full-width brackets, colons and spaces inside the braces are read alike.

docxtpl does the templating: it joins a placeholder that Word split over several runs and
keeps the formatting of the run it starts in. Chinese names and `表:一(二)` are not Jinja
syntax, so a Jinja extension rewrites each placeholder, before Jinja reads the document, into a
variable of our own (`{{ tally_fill_3 }}`) whose text is the figure. A placeholder that cannot
be resolved (an unknown name or form, a figure with no value for the year) is written back as
it was, so the writer sees it in place, and is listed.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from jinja2 import Environment, TemplateError
from jinja2.ext import Extension

from flows.contract.catalog import Indicator, load_catalog
from flows.contract.printed_form import render_number
from flows.errors import TallyError
from flows.textnorm import to_halfwidth
from flows.transform.indicators import value_text

# form: what it writes, for 出动检查人次 = 1776 (rendered 余) and 罚款 = 13650 (rendered in 万).
FORMS = {
    "printed": "as the report prints it, with its unit: 1776余人次, 1.365万元 (the default)",
    "number": "as the report prints it, without the unit: 1776余, 1.365万",
    "exact": "the exact value with its unit: 1776人次, 13650元, 96.8%",
    "value": "the exact value alone: 1776, 13650, 96.8",
}
FORM_ALIASES = {"如印": "printed", "数字": "number", "精确": "exact", "原值": "value"}
TABLE_PREFIXES = ("表", "table")
TABLE_HEADINGS = ("指标", "报告写法", "数值", "单位")
_PLACEHOLDER = re.compile(r"\{\{(?P<body>(?:(?!\}\}).)*)\}\}", re.DOTALL)
_TABLE_MARK = "⟦tally:表{}⟧"


@dataclass(frozen=True)
class Placeholder:
    """One placeholder of the draft and what it became."""

    written: str  # as the draft writes it, without the braces: 出动检查人次|exact
    code: str | None = None
    form: str | None = None
    text: str | None = None  # what was written in its place
    section: str | None = None  # for a table placeholder
    reason: str | None = None  # why it could not be resolved (then it stays as written)


@dataclass
class FillResult:
    """What `fill_draft` did: every placeholder in document order, resolved or not."""

    out: Path
    placeholders: list[Placeholder] = field(default_factory=list)

    @property
    def unresolved(self) -> list[Placeholder]:
        """Return the placeholders left as written, each with its reason."""
        return [p for p in self.placeholders if p.reason is not None]

    @property
    def ok(self) -> bool:
        """Tell whether every placeholder was resolved."""
        return not self.unresolved


def _key(text: str) -> str:
    return re.sub(r"\s+", "", to_halfwidth(text))


class _Resolver:
    """Resolves placeholder bodies against one year's figures; holds the docxtpl context."""

    def __init__(self, figures: pl.DataFrame) -> None:
        self.catalog = load_catalog()
        self.by_name: dict[str, Indicator] = {}
        for indicator in self.catalog.values():
            self.by_name[indicator.code.lower()] = indicator
            self.by_name[_key(indicator.name_zh)] = indicator
        rows = list(figures.iter_rows(named=True))
        self.values = {row["code"]: row["value"] for row in rows}
        # The warehouse's own printed figure (what `tally indicators` shows), when it has one.
        self.printed = {row["code"]: row.get("printed") for row in rows}
        self.sections = {_key(i.section): i.section for i in self.catalog.values()}
        self.context: dict[str, str] = {}
        self.placeholders: list[Placeholder] = []
        self.tables: dict[str, str] = {}  # marker text -> section

    def rewrite(self, source: str) -> str:
        """Rewrite every placeholder of a part's XML into a variable, or escape it as written."""
        return _PLACEHOLDER.sub(self._rewrite_one, source)

    def _rewrite_one(self, m: re.Match) -> str:
        body = m.group("body")
        written = html.unescape(re.sub(r"<[^>]*>", "", body)).strip()
        found = self.resolve(written) if "<" not in body else Placeholder(
            written, reason="占位符跨越了段落 · the placeholder spans paragraphs"
        )  # fmt: skip
        self.placeholders.append(found)
        if found.reason is not None:
            return "{_{" + body + "}_}"  # docxtpl writes {_{ … }_} back as {{ … }}
        name = f"tally_fill_{len(self.context)}"
        if found.section is not None:
            marker = _TABLE_MARK.format(len(self.tables))
            self.tables[marker] = found.section
            self.context[name] = marker
        else:
            self.context[name] = found.text or ""
        return "{{ " + name + " }}"

    def resolve(self, written: str) -> Placeholder:
        """Resolve one placeholder's text (`出动检查人次|exact`, `表:一(二)`)."""
        key = _key(written)
        head, sep, rest = key.partition(":")
        if sep and head.lower() in TABLE_PREFIXES:
            section = self.sections.get(rest)
            if section is None:
                known = "、".join(dict.fromkeys(i.section for i in self.catalog.values()))
                return Placeholder(written, reason=f"没有这一部分「{rest}」（可用：{known}）"
                                                   f" · no such section")  # fmt: skip
            return Placeholder(written, section=section)
        name, _, form = key.partition("|")
        form = FORM_ALIASES.get(form, form.lower()) or "printed"
        indicator = self.by_name.get(name) or self.by_name.get(name.lower())
        if indicator is None:
            return Placeholder(written, reason=f"没有名为「{name}」的指标（写指标代码或中文名称）"
                                               f" · unknown indicator")  # fmt: skip
        if form not in FORMS:
            return Placeholder(written, indicator.code, form,
                               reason=f"未知的写法「{form}」（可用：{'、'.join(FORMS)}）"
                                      f" · unknown form")  # fmt: skip
        value = self.values.get(indicator.code)
        if value is None:
            return Placeholder(written, indicator.code, form,
                               reason="该年没有这一数值（无数据，或比率的分母为 0）"
                                      " · no value for the year")  # fmt: skip
        return Placeholder(written, indicator.code, form, self.text(indicator, value, form))

    def text(self, indicator: Indicator, value: object, form: str = "printed") -> str:
        """Write a figure in a form, as the warehouse printed it when the form is `printed`."""
        printed = self.printed.get(indicator.code)
        if form == "printed" and printed:
            return printed
        return figure_text(indicator, value, form)


def figure_text(indicator: Indicator, value: object, form: str = "printed") -> str:
    """Write an indicator's value in one of FORMS (`1776余人次`, `1776余`, `1776人次`, `1776`)."""
    if form == "printed":
        return indicator.render(value) or ""
    if form == "number":
        return render_number(value, indicator.rendering)
    exact = value_text(value, indicator.unit)
    return exact + indicator.print_unit if form == "exact" else exact


def _environment(resolver: _Resolver) -> Environment:
    class TallyPlaceholders(Extension):
        """Rewrites the draft's placeholders before Jinja parses the document."""

        def preprocess(self, source, name, filename=None):
            return resolver.rewrite(source)

    return Environment(extensions=[TallyPlaceholders], autoescape=True)


def _insert_tables(document, resolver: _Resolver) -> None:
    """Put each section's indicator table where its placeholder stands."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    catalog = resolver.catalog
    body = document.element.body
    for p in list(body.iter(qn("w:p"))):
        paragraph = Paragraph(p, document)
        markers = [m for m in resolver.tables if m in paragraph.text]
        for marker in reversed(markers):
            rows = [i for i in catalog.values() if i.section == resolver.tables[marker]]
            table = document.add_table(rows=1 + len(rows), cols=len(TABLE_HEADINGS))
            if "Table Grid" in [s.name for s in document.styles]:
                table.style = document.styles["Table Grid"]
            for cell, heading in zip(table.rows[0].cells, TABLE_HEADINGS, strict=True):
                cell.paragraphs[0].add_run(heading).bold = True
            for row, indicator in zip(table.rows[1:], rows, strict=True):
                value = resolver.values.get(indicator.code)
                texts = (
                    indicator.name_zh,
                    "—" if value is None else resolver.text(indicator, value),
                    "—" if value is None else figure_text(indicator, value, "value"),
                    indicator.print_unit,
                )
                for i, (cell, text) in enumerate(zip(row.cells, texts, strict=True)):
                    cell.paragraphs[0].add_run(text)
                    if i in (1, 2):
                        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
            p.addnext(table._tbl)
            for run in paragraph.runs:
                if marker in run.text:
                    run.text = run.text.replace(marker, "")
        if markers and not paragraph.text.strip() and p.getparent() is body:
            body.remove(p)  # the placeholder stood alone: the table takes its place


def fill_draft(draft: Path, figures: pl.DataFrame, out: Path) -> FillResult:
    """Fill a .docx draft's placeholders with a year's figures and write it to out.

    figures: one row per indicator with code and value (and printed, used when given).
    """
    from docx.opc.exceptions import PackageNotFoundError
    from docxtpl import DocxTemplate

    if draft.suffix.lower() != ".docx":
        raise TallyError(f"只能填写 .docx 草稿（WPS 可另存为 .docx）：{draft}")
    if not draft.is_file():
        raise TallyError(f"草稿文件不存在：{draft}")
    if out.resolve() == draft.resolve():
        raise TallyError(f"--out 不能是草稿本身（会覆盖草稿）：{out}")
    resolver = _Resolver(figures)
    try:
        template = DocxTemplate(str(draft))
        template.render(resolver.context, _environment(resolver), autoescape=True)
    except TemplateError as exc:
        raise TallyError(f"草稿中的 {{% %}} 或 {{{{ }}}} 无法解读：{exc}") from exc
    except (PackageNotFoundError, KeyError, ValueError) as exc:  # not a Word document
        raise TallyError(f"无法读取草稿（不是有效的 .docx 文件）：{draft}：{exc}") from exc
    if resolver.tables:
        _insert_tables(template.docx, resolver)
    out.parent.mkdir(parents=True, exist_ok=True)
    template.save(str(out))
    return FillResult(out, resolver.placeholders)


def fill_from_warehouse(draft: Path, con, year: int, out: Path) -> FillResult:
    """Fill a draft with the warehouse's figures of a year (see `fill_draft`)."""
    from flows.report.reported import reported_figures
    from flows.transform.indicators import indicator_table

    figures = indicator_table(con, year)
    if figures.height == 0:
        raise TallyError(f"仓库中没有 {year} 年的数据（先运行 tally run，或检查年份）")
    # Only figures whose ledgers were submitted for the year: a stray dated row is no figure.
    figures = reported_figures(figures, con, year)
    return fill_draft(draft, figures, out)
