"""A draft's text made searchable for figures, with every position traced back to the draft.

Report writers paste text from Word, WPS and PDF: a figure may be written `7.2 万余张`,
`7.2　万余张` (an ideographic space), `７.２万余张` or `7.2万余张`, and a line may end in the
middle of a phrase (`…召开法治政` / `府建设相关会议 6 场`). `prepare_draft` gives one text in which
all of these read alike, and keeps for each of its characters the position it came from, so
that a figure is reported on the draft's own line and as the draft writes it.

Chinese text needs no spaces between words, so white space between two characters that are
not both ASCII letters or digits is dropped. A line break is dropped (the line continues) unless
it ends a sentence, a heading or a table row starts or ends there, or a list item starts there.

Chinese numerals (`三次`, `十余场`, `一百五十余场`) are read by cn2an.
"""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import cn2an

from flows.textnorm import to_halfwidth

NOT_FIGURES_FILE = Path(__file__).resolve().parents[1] / "contract" / "data" / "draft_not_figures.toml"
# After to_halfwidth, so `！？；：` are already `!?;:`.
_SENTENCE_END = set("。!?;:…")
# A heading or a table row (`| 名称 | 数值 |`, as Markdown writes it and read_draft writes a
# .docx table's rows) stands on its own: the line before and the line after are apart.
_HEADING = re.compile(
    r"(?:#|\||[一二三四五六七八九十]+、|[(（][一二三四五六七八九十]+[)）]"
    r"|第[一二三四五六七八九十百0-9]+[章节部分])"
)
# A list item or a quote starts a new line, but a long one wraps onto the next.
# (1.加强 and (1) are items; 3.1万份 at the start of a line is a figure that wrapped.)
_ITEM = re.compile(r"(?:>|[-*+]\s|[0-9]+(?:\.(?![0-9])|\)|、)|[(（][0-9]+[)）])")
_THOUSANDS = re.compile(r"(?<=[0-9]),(?=[0-9]{3}(?![0-9]))")
# Digits grouped by a space, a no-break space or a thin space (`1 776`, `12 345 678`): one
# number, as SI and GB/T 15835 write it. Only a lead of 1-3 digits then groups of exactly 3,
# so that `2024 100` (a year, then a count) stays two numbers.
_SPACE_GROUPED = re.compile(r"(?<![0-9.,])[0-9]{1,3}(?:[ \xa0\u2009\u202f][0-9]{3})+(?![0-9])")
_WS = re.compile(r"[ \t\n\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f]+")
_ASCII_WORD = re.compile(r"[0-9A-Za-z]")
_NUMBER_CHAR = re.compile(r"[0-9.]")
_CN_DIGITS = "零〇一二两三四五六七八九"
# A Chinese numeral: it starts with a digit word or 十. 百/千/万 alone begin idioms (千家万户)
# unless 余 or 多 follows: 百余人, 千余册 are counts.
CN_NUMERAL = rf"(?:[{_CN_DIGITS}十][{_CN_DIGITS}十百千万]*|[百千万](?=[余多]))"
_BARE_POWERS = {"百": 100, "千": 1000, "万": 10000}  # cn2an reads 一百, not 百
# Words before a numeral that make it not a count: 第三次 (ordinal), 每一次, 各一场, 这两个.
_CN_NOT_A_COUNT_BEFORE = "第每各某这那哪任逐唯单同"


@dataclass(frozen=True)
class PreparedDraft:
    """A draft's searchable text and, for each of its characters, where it stands in the draft."""

    source: str  # the draft, half-width, without thousands separators; line breaks kept
    text: str  # the searchable text: no inner white space, soft line breaks joined
    origin: tuple[int, ...]  # origin[i]: the index in `source` of text[i]
    line_starts: tuple[int, ...]  # indexes in `source` where each line begins

    def line(self, pos: int) -> int:
        """Return the draft's line number (from 1) of the searchable text's position pos."""
        return bisect_right(self.line_starts, self.origin[min(pos, len(self.origin) - 1)])

    def written(self, start: int, end: int) -> str:
        """Return text[start:end] as the draft writes it (its spaces kept, a line break as one space)."""
        if start >= end:
            return ""
        raw = self.source[self.origin[start] : self.origin[end - 1] + 1]
        return re.sub(r"[ \t]*\n\s*", " ", raw)


def normalise_source(text: str) -> str:
    """Make a draft's text comparable: half-width digits and marks, no thousands separators."""
    return _THOUSANDS.sub("", to_halfwidth(text)).replace("\r\n", "\n").replace("\r", "\n")


def _heading(line: str) -> bool:
    return bool(_HEADING.match(line.strip()))


def _hard_break(before: str, prev_line: str, next_line: str) -> bool:
    """Tell whether the line break between two lines ends a paragraph (else the line continues)."""
    if not before or not next_line.strip():
        return True
    if before[-1] in _SENTENCE_END:
        return True
    return _heading(prev_line) or _heading(next_line) or bool(_ITEM.match(next_line.strip()))


def prepare_draft(text: str) -> PreparedDraft:
    """Return the searchable form of a draft's text (see the module's docstring)."""
    source = normalise_source(text)
    grouping = {m.start() + i for m in _SPACE_GROUPED.finditer(source)
                for i, ch in enumerate(m.group()) if not ch.isdigit()}
    out: list[str] = []
    origin: list[int] = []
    pos = 0
    for ws in _WS.finditer(source):
        for i in range(pos, ws.start()):
            out.append(source[i])
            origin.append(i)
        pos = ws.end()
        run = ws.group(0)
        if ws.start() in grouping:
            continue  # a thousands separator: the number goes on (its written form keeps it)
        prev_char = source[ws.start() - 1] if ws.start() else ""
        next_char = source[ws.end()] if ws.end() < len(source) else ""
        if "\n" in run:
            line_start = source.rfind("\n", 0, ws.start()) + 1
            next_end = source.find("\n", ws.end())
            prev_line = source[line_start : ws.start()]
            next_line = source[ws.end() : next_end if next_end >= 0 else len(source)]
            if _hard_break(prev_line.rstrip(), prev_line, next_line):
                out.append("\n")
                origin.append(ws.start() + run.index("\n"))
                continue
            if _NUMBER_CHAR.match(prev_char) and _NUMBER_CHAR.match(next_char):
                continue  # a wrap inside a number (17 / 76余人次): the line goes on, so does it
        if _ASCII_WORD.match(prev_char) and _ASCII_WORD.match(next_char):
            out.append(" ")
            origin.append(ws.start())
    for i in range(pos, len(source)):
        out.append(source[i])
        origin.append(i)
    line_starts = (0, *(m.end() for m in re.finditer("\n", source)))
    return PreparedDraft(source, "".join(out), tuple(origin), line_starts)


# Chinese numerals


@dataclass(frozen=True)
class ChineseFigure:
    """A count written in Chinese numerals (`三次`, `约十余场`), before its unit."""

    start: int
    end: int
    number: Decimal
    qualifier: str
    weak: bool  # a lone 一 (一批, 一次) is the article "a" unless a phrase claims it


@lru_cache(maxsize=1)
def not_figure_terms() -> tuple[str, ...]:
    """Return the fixed terms whose numerals are names, not counts (`三项制度`, `四个意识`)."""
    data = tomllib.loads(NOT_FIGURES_FILE.read_text(encoding="utf-8"))
    return tuple(to_halfwidth(t) for t in data["terms"])


@lru_cache(maxsize=1)
def _time_limit() -> re.Pattern:
    data = tomllib.loads(NOT_FIGURES_FILE.read_text(encoding="utf-8"))
    return re.compile("|".join(f"(?:{p})" for p in data["time_limits"]))


def is_time_limit(text: str, end: int) -> bool:
    """Tell whether the number ending at text[end] is a time limit (`7个工作日内`), not a count."""
    return _time_limit().match(text, end) is not None


def _spans_of_terms(text: str) -> list[tuple[int, int]]:
    spans = []
    for term in not_figure_terms():
        spans += [(m.start(), m.end()) for m in re.finditer(re.escape(term), text)]
    # A numeral inside short quotation marks names a slogan or a campaign (“两个维护”).
    spans += [(m.start(), m.end()) for m in re.finditer(r"“[^”\n]{1,10}”|\"[^\"\n]{1,10}\"", text)]
    return spans


def chinese_figures(text: str, units: re.Pattern) -> list[ChineseFigure]:
    """Find counts written in Chinese numerals and followed by a unit of `units`."""
    pattern = re.compile(
        rf"(?<![{_CN_DIGITS}十百千万0-9.{_CN_NOT_A_COUNT_BEFORE}])(?P<about>约)?"
        rf"(?P<cn>{CN_NUMERAL})(?P<over>余|多)?(?P<wan>万)?(?=(?:{units.pattern}))"
    )
    excluded = _spans_of_terms(text)
    found = []
    for m in pattern.finditer(text):
        if any(s <= m.start("cn") < e for s, e in excluded) or is_time_limit(text, m.end()):
            continue
        try:
            count = _BARE_POWERS.get(m["cn"]) or int(cn2an.cn2an(m["cn"], "normal"))
            number = Decimal(count) * (10000 if m["wan"] else 1)
        except ValueError:  # not a well-formed numeral (二二, 十十): words, not a count
            continue
        qualifier = ("约" if m["about"] else "") + ("余" if m["over"] else "")
        weak = m["cn"] == "一" and not qualifier
        found.append(ChineseFigure(m.start(), m.end(), number, qualifier, weak))
    return found
