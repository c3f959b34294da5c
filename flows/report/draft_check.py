"""Check a draft report's figures against the warehouse (`tally check-draft`).

The draft's figures are found by their phrasing: each catalog indicator has phrase patterns in
`flows/contract/data/draft_phrases.toml` (`出动…{n}人次`, `办结率…{n}%`), and a figure such as `约8万余人次`
is read into a number and a qualifier. Each cited figure then agrees with the computed value or
not, under the agreement rules of `flows.contract.printed_form.agrees`. Figures that no phrase claims are
listed as unmatched, so that nothing cited goes unchecked silently.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import polars as pl

from flows.contract.catalog import load_catalog
from flows.contract.printed_form import WAN, agrees, plain
from flows.errors import TallyError
from flows.report.draft_text import chinese_figures, is_time_limit, normalise_source, prepare_draft
from flows.textnorm import to_halfwidth

PHRASES_FILE = Path(__file__).resolve().parents[1] / "contract" / "data" / "draft_phrases.toml"
# 10余万人次 puts 万 after 余: the figure is 100,000 and a little over, like 10万余人次.
FIGURE = (
    r"(?P<about>约)?(?P<number>[0-9]+(?:\.[0-9]+)?)(?P<wan>万)?(?P<over>余|多)?"
    r"(?(wan)|(?P<wan_after>万)?)"
)
CLAUSE_GAP = r"[^，,、。；;！!？?\n]{0,30}?"
SENTENCE_GAP = r"[^。；;！!？?\n]{0,80}?"
SENTENCE_BREAK = re.compile(r"[。；;！!？?\n]")
# A number followed by one of these is a figure the draft cites; others (2024年, 3月) are not.
UNITS = (
    "人次", "家/次", "家次", "万元", "学时", "小时", "次", "场", "张", "份", "条", "本", "册", "件",
    "个", "起", "人", "名", "元", "%", "家", "处", "期", "项", "篇", "户", "所", "部", "批", "天",
)  # fmt: skip
_FIGURE_IN_TEXT = re.compile(
    r"(?<![0-9.第])" + FIGURE + "(?=" + "|".join(re.escape(u) for u in UNITS) + ")"
)
_UNIT_AT = re.compile("|".join(re.escape(u) for u in UNITS))


@dataclass(frozen=True)
class Phrase:
    """One way of citing an indicator: the text before the figure and the unit after it."""

    code: str
    source: str
    before: re.Pattern
    after: re.Pattern
    order: int


@dataclass(frozen=True)
class Wording:
    """A figure written in words (`零事故`) and the number it states."""

    code: str
    pattern: re.Pattern
    number: Decimal


@dataclass(frozen=True)
class Citation:
    """One figure a draft cites: where, as written, and (when matched) how it compares."""

    line: int
    cited: str  # the figure as written: 约8万余人次
    number: Decimal  # in the indicator's own unit: 80000
    qualifier: str  # '', 余, 约 or 约余
    context: str  # the sentence it stands in
    code: str | None = None
    name_zh: str | None = None
    value: float | None = None  # the warehouse's value
    computed: str | None = None  # the warehouse's value as the report prints it
    agrees: bool | None = None


@dataclass(frozen=True)
class DraftCheck:
    """What check-draft found: the matched figures and those no indicator claims."""

    matched: list[Citation] = field(default_factory=list)
    unmatched: list[Citation] = field(default_factory=list)

    @property
    def disagreements(self) -> list[Citation]:
        """Return the matched figures that do not agree with the warehouse."""
        return [c for c in self.matched if not c.agrees]

    @property
    def ok(self) -> bool:
        """Tell whether every matched figure agrees."""
        return not self.disagreements

    def frame(self) -> pl.DataFrame:
        """Return every citation as a table (matched first, then unmatched)."""
        rows = [
            {
                "line": c.line, "code": c.code, "name_zh": c.name_zh, "cited": c.cited,
                "number": plain(c.number), "qualifier": c.qualifier, "computed": c.computed,
                "value": c.value, "agrees": c.agrees, "context": c.context,
            }
            for c in [*self.matched, *self.unmatched]
        ]  # fmt: skip
        schema = {"line": pl.Int64, "code": pl.String, "name_zh": pl.String, "cited": pl.String,
                  "number": pl.String, "qualifier": pl.String, "computed": pl.String,
                  "value": pl.Float64, "agrees": pl.Boolean, "context": pl.String}  # fmt: skip
        return pl.DataFrame(rows, schema=schema)


# Phrases


def _compile_part(text: str, counter: list[int]) -> str:
    out = []
    for piece in re.split(r"(……|…)", text):
        if piece in ("……", "…"):
            out.append(f"(?P<gap{counter[0]}>{SENTENCE_GAP if piece == '……' else CLAUSE_GAP})")
            counter[0] += 1
        else:
            out.append(piece)
    return "".join(out)


def compile_phrase(code: str, source: str, order: int) -> Phrase:
    """Compile a phrase pattern (`出动…{n}人次`) into its before-the-figure and unit parts."""
    if source.count("{n}") != 1:
        raise TallyError(f"草稿措辞 {code}：{source!r} 须恰好含一个 {{n}}")
    before, after = to_halfwidth(source).split("{n}")
    counter = [0]
    try:
        return Phrase(
            code, source,
            re.compile("(?:" + _compile_part(before, counter) + r")\Z"),
            re.compile(_compile_part(after, counter)),
            order,
        )  # fmt: skip
    except re.error as exc:
        raise TallyError(f"草稿措辞 {code}：{source!r} 不是有效的正则表达式：{exc}") from exc


def read_phrases(path: Path = PHRASES_FILE) -> tuple[list[Phrase], list[Wording]]:
    """Read the phrase patterns and wordings of every indicator; each code must be in the catalog."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    catalog = load_catalog()
    unknown = sorted(set(data) - set(catalog))
    if unknown:
        raise TallyError(f"{path.name}：未知的指标代码 {', '.join(unknown)}")
    order = {code: i for i, code in enumerate(catalog)}
    phrases, wordings = [], []
    for code, entry in data.items():
        phrases += [compile_phrase(code, p, order[code]) for p in entry.get("phrases", [])]
        wordings += [
            Wording(code, re.compile(to_halfwidth(w["text"])), Decimal(str(w["number"])))
            for w in entry.get("wordings", [])
        ]
    return phrases, wordings


@lru_cache(maxsize=1)
def load_phrases() -> tuple[list[Phrase], list[Wording]]:
    """Return the project's phrase patterns (read once)."""
    return read_phrases(PHRASES_FILE)


# Reading drafts


def normalise_draft(text: str) -> str:
    """Make a draft's text comparable: no thousands separators, half-width digits and marks."""
    return normalise_source(text)


def read_draft(path: Path) -> str:
    """Return the text of a draft (.txt, .md or .docx); a .docx gives paragraphs and table cells."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise TallyError(f"草稿文件不存在：{path}")
    if suffix == ".docx":
        from docx import Document
        from docx.table import Table

        # Body order, so that a figure's line number is its paragraph's. A paragraph's text
        # joins its runs, however Word split them; a table row is one line, written as Markdown
        # writes it (`| 发放宣传海报 | 7.2万余张 |`), a cell merged over several columns once.
        lines = []
        for block in Document(str(path)).iter_inner_content():
            if not isinstance(block, Table):
                lines.append(block.text)
                continue
            for row in block.rows:
                cells, seen = [], set()
                for cell in row.cells:
                    if id(cell._tc) not in seen:
                        seen.add(id(cell._tc))
                        cells.append(" ".join(cell.text.split()))
                lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)
    if suffix in (".txt", ".md", ".markdown", ""):
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                continue
        raise TallyError(f"草稿文件既不是 UTF-8 也不是 GB18030 编码：{path}")
    raise TallyError(f"不支持的草稿格式：{path.suffix}（可用 .txt、.md、.docx）")


# Finding and checking figures


def _qualifier(match: re.Match) -> str:
    return ("约" if match["about"] else "") + ("余" if match["over"] else "")


def _number(match: re.Match) -> Decimal:
    return Decimal(match["number"]) * (WAN if match["wan"] or match["wan_after"] else 1)


def _literal_length(m: re.Match) -> int:
    gaps = sum(len(v) for k, v in m.groupdict().items() if k.startswith("gap") and v)
    return (m.end() - m.start()) - gaps


def _best_phrase(
    text: str, start: int, end: int, phrases: list[Phrase]
) -> tuple[Phrase, int] | None:
    """Pick the phrase that claims the figure at text[start:end]; return it and the unit's end."""
    sentence_start = max((m.end() for m in SENTENCE_BREAK.finditer(text, 0, start)), default=0)
    best, best_key = None, None
    for phrase in phrases:
        after = phrase.after.match(text, end)
        if after is None:
            continue
        before = phrase.before.search(text, sentence_start, start)
        if before is None:
            continue
        specificity = _literal_length(before) + _literal_length(after)
        key = (-specificity, start - before.start(), phrase.order)
        if best_key is None or key < best_key:
            best, best_key = (phrase, after.end()), key
    return best


def find_citations(
    text: str, phrases: list[Phrase] | None = None, wordings: list[Wording] | None = None
) -> tuple[list[Citation], list[Citation]]:
    """Find the figures a draft cites: (matched to an indicator, unmatched), in text order.

    A figure is a number (digits, or Chinese numerals) followed by a unit, whatever the spaces
    or line breaks between them; see `flows.report.draft_text` for what is and is not counted.
    """
    if phrases is None or wordings is None:
        phrases, wordings = load_phrases()
    draft = prepare_draft(text)
    text = draft.text

    def sentence(pos: int, end: int) -> str:
        s = max((m.end() for m in SENTENCE_BREAK.finditer(text, 0, pos)), default=0)
        e = SENTENCE_BREAK.search(text, end)
        return text[s : e.end() if e else len(text)].strip()

    matched, unmatched = [], []
    spans = []  # (start, end) of the figures a wording states, which no number may claim again
    for wording in wordings:
        for m in wording.pattern.finditer(text):
            citation = Citation(draft.line(m.start()), draft.written(m.start(), m.end()),
                                wording.number, "", sentence(m.start(), m.end()),
                                code=wording.code)  # fmt: skip
            matched.append((m.start(), citation))
            spans.append((m.start(), m.end()))
    figures = [
        (fig.start(), fig.end(), _number(fig), _qualifier(fig), False)
        for fig in _FIGURE_IN_TEXT.finditer(text)
    ]
    figures += [
        (f.start, f.end, f.number, f.qualifier, f.weak) for f in chinese_figures(text, _UNIT_AT)
    ]
    for start, end, number, qualifier, weak in sorted(figures, key=lambda f: f[0]):
        if any(s <= start < e for s, e in spans) or is_time_limit(text, end):
            continue
        claim = _best_phrase(text, start, end, phrases)
        if claim is None and weak:
            continue  # 一批, 一次: the article "a", unless a phrase claims it as a count
        unit = _UNIT_AT.match(text, end)
        # The figure and its unit, even when the claiming phrase goes on after the unit.
        stop = unit.end() if unit else (claim[1] if claim else end)
        citation = Citation(
            line=draft.line(start), cited=draft.written(start, stop), number=number,
            qualifier=qualifier, context=sentence(start, stop),
            code=claim[0].code if claim else None,
        )  # fmt: skip
        (matched if claim else unmatched).append((start, citation))
    return [c for _, c in sorted(matched, key=lambda x: x[0])], [
        c for _, c in sorted(unmatched, key=lambda x: x[0])
    ]


def check_text(text: str, figures: pl.DataFrame) -> DraftCheck:
    """Check a draft's text against an indicator table (code, name_zh, value, printed)."""
    known = {row["code"]: row for row in figures.iter_rows(named=True)}
    found, unmatched = find_citations(text)
    checked = []
    for c in found:
        row = known.get(c.code)
        value = row["value"] if row else None
        checked.append(
            Citation(
                c.line, c.cited, c.number, c.qualifier, c.context, c.code,
                row["name_zh"] if row else load_catalog()[c.code].name_zh, value,
                row["printed"] if row else None,
                value is not None and agrees(c.number, c.qualifier, value),
            )
        )  # fmt: skip
    return DraftCheck(checked, unmatched)


def check_draft(path: Path, con, year: int) -> DraftCheck:
    """Read a draft file and check its figures against the warehouse's figures of a year."""
    from flows.report.reported import reported_figures
    from flows.transform.indicators import indicator_table

    text = read_draft(path)
    figures = indicator_table(con, year)
    if figures.height == 0:
        raise TallyError(f"仓库中没有 {year} 年的数据（先运行 tally run，或检查年份）")
    # Only figures whose ledgers were submitted for the year: a stray dated row is no figure.
    figures = reported_figures(figures, con, year)
    return check_text(text, figures)
