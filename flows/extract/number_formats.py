"""Number formats that change what a number cell shows: the text Excel shows for them.

calamine gives a number cell's value (`123`); Excel shows it through the cell's number format.
For most formats the value is what a ledger needs (a date, `1,200.00` for 1200), but three
kinds of format show something else, and the clerk reads only what is shown:

- zero-padded whole numbers (`000000000000`, `"GD"0000`, `0000"号"`): a ticket number 123 shows
  as `000000000123` and must load as that, or the same ticket typed as text in another month
  becomes a second key;
- percentages (`0%`, `0.00%`): 3 shows as `300%`, which a count column must not read as 3;
- `;;;` (every section empty): the value is hidden, and the clerk sees a blank cell.

Only these are rewritten; any other format leaves calamine's text as it is. The formats are
read from `xl/styles.xml` (ECMA-376 Part 1, §18.8.30 numFmt and §18.8.10 cellXfs; built-in
ids 9 and 10 are `0%` and `0.00%`, §18.8.30's table).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from xml.etree import ElementTree
from xml.sax.saxutils import unescape

BUILTIN = {9: "0%", 10: "0.00%"}
_CODE = re.compile(rb'<numFmt\b[^>]*?\sformatCode="([^"]*)"')
_BUILTIN_USED = re.compile(rb'<xf\b[^>]*?\snumFmtId="(?:9|10)"')
_ENTITIES = {"&quot;": '"', "&apos;": "'"}
_LITERAL = re.compile(r'"([^"]*)"|\\(.)')
_PADDED = re.compile(r"(0{2,})")
_PERCENT = re.compile(r"0(?:\.(0+))?%")
# A number cell (no type or t="n") with a style index, and its value; `r` first as every
# writer puts it. A formula's cached value counts as the cell's value.
_CELL = re.compile(
    rb'<c r="([A-Z]+)([0-9]+)"([^>/]*?)\ss="([0-9]+)"([^>/]*)>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)?<v>([^<]*)</v>'
)


@dataclass(frozen=True)
class Shown:
    """How one number format shows a value: kind padded | percent | hidden."""

    kind: str
    digits: int = 0  # padded: the zeros' count; percent: the decimals
    prefix: str = ""
    suffix: str = ""

    def text(self, value: str) -> str | None:
        """The text Excel shows for the stored value, or None when it cannot say (not a number)."""
        if self.kind == "hidden":
            return ""
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        if not number.is_finite():
            return None
        if self.kind == "percent":
            quantum = Decimal(1).scaleb(-self.digits)
            return f"{(number * 100).quantize(quantum, rounding=ROUND_HALF_UP)}%"
        whole = number.quantize(Decimal(1), rounding=ROUND_HALF_UP)
        sign = "-" if whole < 0 else ""
        return f"{sign}{self.prefix}{str(abs(int(whole))).zfill(self.digits)}{self.suffix}"


def classify(code: str) -> Shown | None:
    """The kind of a format code that shows a number otherwise than its value, or None."""
    if code and not code.strip(";"):
        return Shown("hidden")
    if ";" in code or "[" in code:  # sections, colours, conditions, locales: left as they are
        return None
    literals: list[tuple[int, str]] = []
    bare = _LITERAL.sub(lambda m: literals.append((m.start(), m.group(1) or m.group(2) or "")) or "\x00", code)
    percent = _PERCENT.fullmatch(bare)
    if percent is not None:
        return Shown("percent", len(percent.group(1) or ""))
    core = bare.replace("\x00", "")
    padded = _PADDED.fullmatch(core)
    if padded is None:
        return None
    split = bare.index("0")
    texts = iter(text for _, text in literals)
    prefix = "".join(next(texts) for _ in range(bare[:split].count("\x00")))
    suffix = "".join(texts)
    return Shown("padded", len(padded.group(1)), prefix, suffix)


def styles_shown(z: zipfile.ZipFile) -> dict[int, Shown]:
    """Map each cell style index (`s`) whose number format shows a value otherwise to how it does.

    Empty for a workbook with no such format (the usual case: one parse of styles.xml).
    """
    try:
        data = z.read("xl/styles.xml")
    except KeyError:
        return {}
    # Only custom formats and the two built-in percentages can be of these kinds: the format
    # codes are classified before the whole part is parsed (most workbooks have none of them).
    custom = (classify(unescape(code.decode(errors="replace"), _ENTITIES)) for code in _CODE.findall(data))
    if not any(shown is not None for shown in custom) and not _BUILTIN_USED.search(data):
        return {}
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return {}
    codes = dict(BUILTIN)
    xfs: list[int] = []
    for el in root:
        tag = el.tag.rpartition("}")[2]
        if tag == "numFmts":
            for fmt in el:
                try:
                    codes[int(fmt.get("numFmtId", ""))] = fmt.get("formatCode", "")
                except ValueError:
                    continue
        elif tag == "cellXfs":
            for xf in el:
                try:
                    xfs.append(int(xf.get("numFmtId", "0")))
                except ValueError:
                    xfs.append(0)
    kinds = {fmt_id: shown for fmt_id, code in codes.items() if (shown := classify(code)) is not None}
    return {index: kinds[fmt_id] for index, fmt_id in enumerate(xfs) if fmt_id in kinds}


def shown_texts(data: bytes, styles: dict[int, Shown]) -> dict[tuple[int, int], str | None]:
    """The shown text of every number cell of a sheet's XML whose style is in `styles`.

    Keys are (spreadsheet row, 0-based column); a cell whose value is not a number is left out.
    """
    from flows.extract.xlsx_marks import col_index

    wanted = {str(index).encode() for index in styles}
    out: dict[tuple[int, int], str] = {}
    for m in _CELL.finditer(data):
        if m.group(4) not in wanted:
            continue
        kind = re.search(rb'\st="([^"]*)"', m.group(3) + m.group(5))
        if kind is not None and kind.group(1) != b"n":
            continue
        shown = styles[int(m.group(4))]
        text = shown.text(m.group(6).decode(errors="replace"))
        if text is not None:
            out[(int(m.group(2)), col_index(m.group(1).decode()))] = text or None  # hidden: a blank cell
    return out
