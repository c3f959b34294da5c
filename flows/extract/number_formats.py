"""Number formats that change what a number cell shows: the text Excel shows for them.

calamine gives a number cell's value (`123`); Excel shows it through the cell's number format.
For most formats the value is what a ledger needs (a date, `1,200.00` for 1200), but five
kinds of format show something else, and the clerk reads only what is shown:

- zero-padded whole numbers (`000000000000`, `"GD"0000`, `0000"号"`): a ticket number 123 shows
  as `000000000123` and must load as that, or the same ticket typed as text in another month
  becomes a second key;
- percentages (`0%`, `0.00%`): 3 shows as `300%`, which a count column must not read as 3;
- `;;;` (every section empty): the value is hidden, and the clerk sees a blank cell;
- formats that scale the number or write text around it (`affixed`): `0!.0000` and `0!.0,"万"`
  (the well-known ways to show yuan in 万: 12345 shows as `1.2345`, 123456 as `12.3万`),
  `0.00"万元"`, `"西文旅罚〔2024〕"0"号"`. The clerk reads the shown magnitude and text, so the
  cell loads as `prefix + value / 10^k + suffix` at the stored value's full precision (the
  rounding a format does is not taken, as for every format): `1.2345`, `12.3456万`, `1.2万元`,
  `西文旅罚〔2024〕7号`. A suffix that neither scales the number nor makes it a document's
  number (`0"人"`, `0"户"`, `#,##0.00"元"`) and a currency sign before it are not rewritten;
- any other format that rounds (`0`, `#,##0`, `0.00"元"`, `0"人"`): 1234.5 formatted `#,##0`
  shows `1,235`. Where what is shown differs from what is stored the cell is marked `rounded`
  and its row goes back naming both: loading 1234.5 is not what the clerk sees, and loading 1235
  is not what Excel sums. Where they agree (1200 shows `1,200`) the value loads as it is.

The first four are rewritten to the shown text; the fifth is only marked; any other format
(General, dates, text, scientific, fractions, sections with conditions) leaves calamine's text
as it is. The formats are read from `xl/styles.xml` (ECMA-376 Part 1, §18.8.30 numFmt and
§18.8.10 cellXfs; the built-in ids are §18.8.30's table, and 5–8, 41–44 the currency and
accounting formats Excel writes for a Chinese locale) or, for an .xls, from its FORMAT and XF
records through xlrd (`flows.extract.xls_reader`).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from xml.etree import ElementTree

BUILTIN = {
    1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%",
    # zh-CN currency and accounting formats (not in the standard's table: Excel writes them per locale)
    5: '"¥"#,##0;"¥"-#,##0', 6: '"¥"#,##0;[Red]"¥"-#,##0', 7: '"¥"#,##0.00;"¥"-#,##0.00',
    8: '"¥"#,##0.00;[Red]"¥"-#,##0.00',
    37: "#,##0 ;(#,##0)", 38: "#,##0 ;[Red](#,##0)", 39: "#,##0.00;(#,##0.00)", 40: "#,##0.00;[Red](#,##0.00)",
    41: '_ * #,##0_ ;_ * -#,##0_ ;_ * "-"_ ;_ @_ ', 42: '_ "¥"* #,##0_ ;_ "¥"* -#,##0_ ;_ "¥"* "-"_ ;_ @_ ',
    43: '_ * #,##0.00_ ;_ * -#,##0.00_ ;_ * "-"??_ ;_ @_ ', 44: '_ "¥"* #,##0.00_ ;_ "¥"* -#,##0.00_ ;_ "¥"* "-"??_ ;_ @_ ',
}
_CODE = re.compile(rb'<numFmt\b[^>]*?\sformatCode="([^"]*)"')
_BUILTIN_USED = re.compile(rb'<xf\b[^>]*?\snumFmtId="(?:[1-9]|10|3[7-9]|4[0-4])"')
_ENTITIES = {"&quot;": '"', "&apos;": "'"}
_LITERAL = re.compile(r'"([^"]*)"|\\(.)')
_PADDED = re.compile(r"(0{2,})")
_PERCENT = re.compile(r"0(?:\.(0+))?%")
# A section of a format that rounds: digit placeholders with a decimal point, grouping commas
# and scaling commas after the last placeholder (each divides by 1000), and nothing that is a
# date, a time, text (@), a fraction (/) or scientific (E+).
_ROUNDING = re.compile(r"([#0?,]*[0#?])(?:\.([0#?]*))?(,*)")  # digits, decimals, scaling commas
_COLOUR = re.compile(r"\[(?:[A-Za-z]+|Color\s*[0-9]+)\]", re.IGNORECASE)
_CURRENCY = re.compile(r"\[\$([^\]-]*)(?:-[0-9A-Fa-f]+)?\]")
_PADDING = re.compile(r"[_*].")  # `_x` pads the width of x, `*x` fills with x: neither shows as text
_LITERAL_CHARS = set(" $-+/():!^&'~{}<>=¥￥元")
# A number cell (no type or t="n") with a style index, and its value; `r` first as every
# writer puts it. A formula's cached value counts as the cell's value.
_CELL = re.compile(
    rb'<c r="([A-Z]+)([0-9]+)"([^>/]*?)\ss="([0-9]+)"([^>/]*)>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)?<v>([^<]*)</v>'
)


@dataclass(frozen=True)
class Shown:
    """How one number format shows a value: kind padded | percent | hidden."""

    kind: str  # padded | percent | hidden | affixed | rounded
    digits: int = 0  # padded: the zeros' count; percent and rounded: the decimals; affixed: the power of 10 divided by
    prefix: str = ""
    suffix: str = ""
    grouped: bool = False  # rounded: thousands shown with commas (`#,##0`)
    scale: int = 0  # rounded: commas after the last digit placeholder, each dividing by 1000
    whole: int = 1  # rounded: the zeros before the decimal point (the fewest integer digits shown)

    def stored_differs(self, value: str) -> bool:
        """Whether a rounding format shows `value` (the stored number) as another number.

        The stored value is first taken to Excel's 15 significant digits, so a stored
        0.30000000000000004 formatted `0.00` (shown 0.30) does not differ.
        """
        number = _decimal(value)
        if self.kind != "rounded" or number is None:
            return False
        excel = Decimal(f"{float(number):.15g}")
        shown = (excel.scaleb(-3 * self.scale)).quantize(Decimal(1).scaleb(-self.digits), rounding=ROUND_HALF_UP)
        return shown != excel  # scaled by thousands, 5000 shows 5: another number

    def text(self, value: str) -> str | None:
        """The text Excel shows for the stored value, or None when it cannot say (not a number)."""
        if self.kind == "hidden":
            return ""
        number = _decimal(value)
        if number is None:
            return None
        if self.kind == "rounded":
            shown = Decimal(f"{float(number):.15g}").scaleb(-3 * self.scale)
            shown = shown.quantize(Decimal(1).scaleb(-self.digits), rounding=ROUND_HALF_UP)
            whole, _, fraction = f"{abs(shown):f}".partition(".")
            whole = whole.lstrip("0").zfill(self.whole) if self.whole else whole.lstrip("0")
            if self.grouped:
                whole = f"{int(whole or 0):,}" if whole else ""
            sign = "-" if shown < 0 else ""
            return f"{sign}{self.prefix}{whole}{'.' + fraction if fraction else ''}{self.suffix}"
        if self.kind == "percent":
            quantum = Decimal(1).scaleb(-self.digits)
            return f"{(number * 100).quantize(quantum, rounding=ROUND_HALF_UP)}%"
        if self.kind == "affixed":  # at the 15 significant digits Excel keeps of a number
            scaled = Decimal(format(float(number), ".15g")).scaleb(-self.digits)
            plain = format(scaled, "f")
            if "." in plain:
                plain = plain.rstrip("0").rstrip(".")
            sign = "-" if scaled < 0 and plain.strip("-0.") else ""
            return f"{sign}{self.prefix}{plain.lstrip('-')}{self.suffix}"
        whole = number.quantize(Decimal(1), rounding=ROUND_HALF_UP)
        sign = "-" if whole < 0 else ""
        return f"{sign}{self.prefix}{str(abs(int(whole))).zfill(self.digits)}{self.suffix}"


def _decimal(value: str) -> Decimal | None:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def classify(code: str) -> Shown | None:
    """The kind of a format code that shows a number otherwise than its value, or None."""
    if code and not code.strip(";"):
        return Shown("hidden")
    if ";" in code or "[" in code:  # sections, colours, conditions, locales
        return rounding(code)
    return padded_or_percent(code) or rounding(code)


def rounding(code: str) -> Shown | None:
    """A format whose first section rounds or scales a number: Shown("rounded"), else None.

    Only the first section is read (it shows positive numbers; Excel's own negative sections
    keep its decimals). A section with a condition (`[>100]`), a date or time, text, a
    fraction or an exponent is not of this kind.
    """
    section = code.split(";", 1)[0]
    section = _CURRENCY.sub(lambda m: '"' + m.group(1) + '"', _COLOUR.sub("", section))
    if "[" in section:  # a condition or an elapsed time: not a plain number
        return None
    literals: list[str] = []
    bare = _LITERAL.sub(lambda m: literals.append(m.group(1) or m.group(2) or "") or "\x00",
                        _PADDING.sub("", section))
    match = _ROUNDING.search(bare)
    if match is None or "%" in bare:
        return None
    before, after = bare[: match.start()], bare[match.end():]
    if any(ch not in _LITERAL_CHARS and ch != "\x00" for ch in before + after):
        return None  # letters (dates, E+, General), @, ?/?, or anything else unknown
    texts = iter(literals)
    prefix = "".join(next(texts) if ch == "\x00" else ch for ch in before).strip()
    suffix = "".join(next(texts) if ch == "\x00" else ch for ch in after).strip()
    digits, decimals, scaling = match.group(1), match.group(2) or "", match.group(3)
    return Shown("rounded", len(decimals), prefix, suffix, grouped="," in digits.strip(","),
                 scale=len(scaling), whole=digits.count("0"))


def padded_or_percent(code: str) -> Shown | None:
    """Zero-padded whole numbers and percentages: Shown("padded"/"percent"), else None."""
    literals: list[tuple[int, str]] = []
    bare = _LITERAL.sub(lambda m: literals.append((m.start(), m.group(1) or m.group(2) or "")) or "\x00", code)
    percent = _PERCENT.fullmatch(bare)
    if percent is not None:
        return Shown("percent", len(percent.group(1) or ""))
    core = bare.replace("\x00", "")
    padded = _PADDED.fullmatch(core)
    # Text among the zeros (`0"."0000`, the 万 trick) is no padding: the digits move.
    if padded is None or _PADDED.search(bare.strip("\x00")) is None or "\x00" in bare.strip("\x00"):
        return affixed(code)
    split = bare.index("0")
    texts = iter(text for _, text in literals)
    prefix = "".join(next(texts) for _ in range(bare[:split].count("\x00")))
    suffix = "".join(texts)
    return Shown("padded", len(padded.group(1)), prefix, suffix)


# A suffix changes what the number means only when it scales it (`万元`, `亿`, `千元`) or makes
# it a document's number (`号`): any other (`人`, `户`, `人/次`, `元`) is a unit beside the same
# number, which loads as stored. Currency signs before a number are read by the money parser.
MEANING_WORDS = ("万", "亿", "千", "号")
CURRENCY_SIGNS = frozenset(("¥", "￥", "$"))
_GENERAL = ("general", "g/通用格式")


def affixed(code: str) -> Shown | None:
    """A format that scales its number or writes text around it, as `Shown("affixed")`, or None.

    One section of digit placeholders (`0 # ?`, grouping commas, one decimal point) or General,
    with literal text before or after it (quoted, escaped by `\\` or `!`, or a character that is
    not a format letter). Commas right after the last placeholder divide by 1,000 each; a literal
    `.` among the whole-number placeholders (`0!.0000`) divides by 10 per placeholder after it.
    Anything else (dates, `@`, exponents, other literals among the digits) is None: left as it is.
    """
    tokens: list[tuple[str, str]] = []  # ("lit", text) | ("ph", placeholder char) | ("gen", "")
    i = 0
    while i < len(code):
        ch = code[i]
        if ch == '"':
            end = code.find('"', i + 1)
            if end < 0:
                return None
            tokens.append(("lit", code[i + 1:end]))
            i = end + 1
            continue
        if ch in "\\!" and i + 1 < len(code):
            tokens.append(("lit", code[i + 1]))
            i += 2
            continue
        general = next((g for g in _GENERAL if code[i:i + len(g)].lower() == g), None)
        if general is not None:
            tokens.append(("gen", ""))
            i += len(general)
            continue
        if ch in "0#?.,":
            tokens.append(("ph", ch))
        elif ch == "_" and i + 1 < len(code):  # a space as wide as the next character
            i += 1
        elif ch.isascii() and (ch.isalpha() or ch in "%@*"):
            return None  # a date or time, text, an exponent, a percentage beside text, a fill
        elif ch != " " or tokens:
            tokens.append(("lit", ch))
        i += 1
    kinds = [kind for kind, _ in tokens]
    if "ph" not in kinds and "gen" not in kinds:
        return None
    first = min(k for k, (kind, _) in enumerate(tokens) if kind != "lit")
    last = max(k for k, (kind, _) in enumerate(tokens) if kind != "lit")
    prefix = "".join(t for _, t in tokens[:first])
    suffix = "".join(t for _, t in tokens[last + 1:]).rstrip()
    core = tokens[first:last + 1]
    if "gen" in kinds:
        if len(core) != 1:
            return None
        exponent = 0
    else:
        scale = 0
        while core and core[-1] == ("ph", ","):  # trailing commas: each divides by 1,000
            core.pop()
            scale += 3
        places = [t for kind, t in core if kind == "ph"]
        if places.count(".") > 1:
            return None
        whole = core if "." not in places else core[: core.index(("ph", "."))]
        inserted = [k for k, (kind, t) in enumerate(core) if kind == "lit"]
        if any(k >= len(whole) or core[k][1] != "." for k in inserted) or len(inserted) > 1:
            return None  # literals among the decimals, or other than one inserted point
        shift = sum(1 for kind, t in whole[inserted[0] + 1:] if kind == "ph" and t != ",") if inserted else 0
        if inserted and "." in places:
            return None
        exponent = scale + shift
    if exponent == 0 and (not prefix or prefix.strip() in CURRENCY_SIGNS) and not any(w in suffix for w in MEANING_WORDS):
        return None  # the number shown is the number stored, a unit beside it
    return Shown("affixed", exponent, prefix, suffix)


def styles_shown(z: zipfile.ZipFile) -> dict[int, Shown]:
    """Map each cell style index (`s`) whose number format shows a value otherwise to how it does.

    Empty for a workbook with no such format (the usual case: one parse of styles.xml).
    """
    try:
        data = z.read("xl/styles.xml")
    except KeyError:
        return {}
    # Imported here: xml.sax.saxutils imports urllib.request (http.client, ssl), 0.14 s that a run
    # of CSVs alone, which never gets here, paid when the readers were imported.
    from xml.sax.saxutils import unescape

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


def marks_and_texts(data: bytes, styles: dict[int, Shown]
                    ) -> tuple[dict[tuple[int, int], str | None], list[tuple[int, int, str, str]]]:
    """`shown_texts` for the formats rewritten, and (row, col, shown, stored) of rounded cells that differ."""
    rewritten = {i: s for i, s in styles.items() if s.kind != "rounded"}
    rounded = {i: s for i, s in styles.items() if s.kind == "rounded"}
    texts = shown_texts(data, rewritten) if rewritten else {}
    marks = [(row, col, shown.text(stored) or "", stored.strip())
             for row, col, shown, stored in number_cells(data, rounded) if shown.stored_differs(stored)]
    return texts, marks


def number_cells(data: bytes, styles: dict[int, Shown]) -> Iterator[tuple[int, int, Shown, str]]:
    """(spreadsheet row, 0-based column, its format, stored value) of each number cell in `styles`."""
    if not styles:
        return
    from flows.extract.xlsx_marks import col_index

    wanted = {str(index).encode() for index in styles}
    for m in _CELL.finditer(data):
        if m.group(4) not in wanted:
            continue
        kind = re.search(rb'\st="([^"]*)"', m.group(3) + m.group(5))
        if kind is not None and kind.group(1) != b"n":
            continue
        yield int(m.group(2)), col_index(m.group(1).decode()), styles[int(m.group(4))], m.group(6).decode(errors="replace")


def shown_texts(data: bytes, styles: dict[int, Shown]) -> dict[tuple[int, int], str | None]:
    """The shown text of every number cell of a sheet's XML whose style is in `styles`.

    Keys are (spreadsheet row, 0-based column); a cell whose value is not a number is left out.
    """
    out: dict[tuple[int, int], str | None] = {}
    for row, col, shown, stored in number_cells(data, styles):
        text = shown.text(stored)
        if text is not None:
            out[(row, col)] = text or None  # hidden: a blank cell
    return out
