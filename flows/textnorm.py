"""Text normalisation shared by headers, enumeration values and cells.

Clerks type on Chinese input methods, which switch between full-width and half-width
forms at will: `（元）` and `(元)`, `３` and `3`, `ＫＴＶ` and `KTV` mean the same thing.
"""

from __future__ import annotations

import re

import polars as pl

# U+FF01..U+FF5E are the full-width twins of ASCII U+0021..U+007E, at a fixed offset.
_FULL = [chr(c) for c in range(0xFF01, 0xFF5F)]
_HALF = [chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)]
_FULL.append("\u3000")  # the ideographic space
_HALF.append(" ")
# Characters no one sees (C0 controls but tab/LF/CR, DEL, C1 controls, zero-width space,
# non-joiner, joiner, word joiner, BOM) go in the same pass: dropped.
_INVISIBLE_CHARS = [
    chr(c)
    for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0),
              0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF)
]  # fmt: skip
_FULL.extend(_INVISIBLE_CHARS)
_HALF.extend([""] * len(_INVISIBLE_CHARS))
_HALFWIDTH_TABLE = str.maketrans({f: (h or None) for f, h in zip(_FULL, _HALF, strict=True)})

# Middle dots that input methods and fonts produce for the `4·23` of theme days and the
# `·` in transliterated names.
MIDDLE_DOTS = ("・", "•", "‧", "･", "∙", "⋅", "·")
MIDDLE_DOT = "·"

# Unicode White_Space spelt out, because Python's \s also takes the separators U+001C..1F
# and polars' (Rust) \s does not: both engines must agree on what is white space.
WHITESPACE = r"[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+"
_WHITESPACE = re.compile(WHITESPACE)
# The same characters one by one, for literal (non-regex) searches.
WHITESPACE_CHARS = tuple(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000"
) + tuple(chr(c) for c in range(0x2000, 0x200B))
_TRAILING_UNIT = re.compile(r"\(([^()]*)\)$")
# Characters a cell can hold that no one sees: C0 controls (tab, CR and LF are white space
# above), DEL, C1 controls, zero-width space/non-joiner/joiner, word joiner and a BOM inside
# text. Spelt with escapes that Python's re and polars' (Rust) regex read alike.
INVISIBLE = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff]+"


def to_halfwidth(text: str) -> str:
    """Turn full-width ASCII forms and the ideographic space into half-width; drop invisible ones."""
    return text.translate(_HALFWIDTH_TABLE)


def _compact(text: str) -> str:
    return _WHITESPACE.sub("", to_halfwidth(text))


# The mark a template prints before or after a required column's header (`*罚款金额`, `检查日期★`).
_REQUIRED_MARK = re.compile(r"^[*★☆※]+|[*★☆※]+$")


def _header_text(text: str) -> str:
    return _REQUIRED_MARK.sub("", _compact(text))


def normalise_header(text: str) -> str:
    """Normalise a header cell: half-width, no white space or invisible characters, no required
    mark (`*`, `★`, `※`), no trailing unit."""
    return _TRAILING_UNIT.sub("", _header_text(text))


def header_unit(text: str) -> str | None:
    """Return the unit a header names in trailing brackets (`罚款金额（万元）` -> `万元`)."""
    match = _TRAILING_UNIT.search(_header_text(text))
    if match is None or not match.group(1):
        return None
    return match.group(1)


def normalise_value(text: str) -> str:
    """Normalise an enumeration value: half-width, no white space, one kind of middle dot."""
    out = _compact(text)
    for dot in MIDDLE_DOTS:
        out = out.replace(dot, MIDDLE_DOT)
    return out


def halfwidth_expr(expr: pl.Expr) -> pl.Expr:
    """Turn full-width ASCII forms and the ideographic space into half-width, drop invisible ones."""
    return expr.str.replace_many(_FULL, _HALF)


def normalise_value_expr(expr: pl.Expr) -> pl.Expr:
    """Normalise enumeration values like `normalise_value`, vectorised."""
    return (
        halfwidth_expr(expr)
        .str.replace_all(WHITESPACE, "")
        .str.replace_many(list(MIDDLE_DOTS), [MIDDLE_DOT] * len(MIDDLE_DOTS))
    )
