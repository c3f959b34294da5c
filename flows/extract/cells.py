"""Parse one column of raw cell text into typed values, vectorised.

A raw column is Utf8 as the reader hands it over: null for an empty cell, Excel dates as
`2024-03-05 00:00:00`, numbers as `3` or `1200.5`, CSV cells as typed. `parse_cell` turns
it into three expressions evaluated side by side: the typed value, the rule a bad cell
broke, and a short reason in Chinese for the clerk. Everything is polars expressions
(regex extraction, strict=False casts, mappings): no Python code runs per row.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import NamedTuple

import polars as pl

from flows.contract.ledgers import Column
from flows.textnorm import WHITESPACE_CHARS, halfwidth_expr, normalise_value, normalise_value_expr

VALUE_DTYPES: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "int": pl.Int64(),
    "money": pl.Float64(),
    "number": pl.Float64(),
    "bool": pl.Boolean(),
    "enum": pl.Utf8(),
    "text": pl.Utf8(),
    "names": pl.List(pl.Utf8()),
}

RULES = {
    "date": "date",
    "int": "integer",
    "money": "money",
    "number": "number",
    "bool": "yes_no",
    "enum": "enum",
}
REQUIRED_RULE = "required"
REQUIRED_REASON = "必填项为空"

# Dashes, slashes and 无 say "nothing" in a count or amount column.
NUMERIC_BLANKS = ("-", "--", "—", "——", "–", "/", "无")

# Counting words a clerk writes after a count: 3人, 5本, 2家次.
COUNT_UNITS = (
    "人次", "家次", "人", "名", "位", "次", "本", "册", "张", "份", "条", "场", "家", "个", "件",
)  # fmt: skip

YES = ("是", "y", "yes", "√", "✓", "✔", "有", "true", "1", "1.0")
NO = ("否", "n", "no", "×", "✗", "✘", "无", "false", "0", "0.0")

# Excel counts days from 1899-12-30 (the 1900 leap-year bug folded in); serials outside
# this window are more likely counts or codes than dates (20000 ~ 1954, 80000 ~ 2119).
EXCEL_EPOCH = date(1899, 12, 30)
SERIAL_MIN, SERIAL_MAX = 20000, 80000
# The first day Excel's and the calendar's serials agree (serial 61). A workbook's date cell
# before it is not a ledger date: a time typed alone (serial 0.4 → 1899-12-31 09:30, which
# Excel shows as 9:30), a negative serial (Excel shows ####) or Excel's 1900-02-29 (serial 60,
# read as 1900-02-28). Loading it would be a date the clerk never saw: it goes back.
FIRST_TRUE_DATE = date(1900, 3, 1)

# Excel datetime cells come as `2024-03-05 00:00:00`; the time of day is dropped.
_TIME_OF_DAY = r"[T ]\d{1,2}:\d{1,2}(?::\d{1,2}(?:\.\d+)?)?$"
# The accepted shapes, checked before any parsing because chrono alone is too lenient
# (it reads `2024035` as 2024-03-05). One alternative per form: no mixed separators.
_FULL_DATE = (
    r"^\d{4}(?:-\d{1,2}-\d{1,2}|/\d{1,2}/\d{1,2}|\.\d{1,2}\.\d{1,2}|年\d{1,2}月\d{1,2}日?)$"
)
_COMPACT_DATE = r"^\d{8}(?:\.0+)?$"
_YEARLESS_DATE = r"^(?:\d{1,2}月\d{1,2}日?|\d{1,2}\.\d{1,2})$"
_SERIAL = r"^\d{5}(?:\.\d+)?$"
_DATE_SEPARATORS = (["/", ".", "年", "月", "日"], ["-", "-", "-", "-", ""])

MONEY_UNITS = ("万元", "万", "千元", "元")
_PLAIN_NUMBER = r"^[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?$"
_DECIMAL_NUMBER = r"^[-+]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)$"

_NULL_STR = pl.lit(None, dtype=pl.Utf8)


class ParsedCell(NamedTuple):
    """The three expressions one raw column parses into."""

    value: pl.Expr  # typed value, null when blank (and no default) or bad
    rule: pl.Expr  # Utf8: null when fine, else the rule code of the failure
    reason: pl.Expr  # Utf8: null when fine, else a short Chinese reason for the clerk


class _Checked(NamedTuple):
    value: pl.Expr  # null where the cell is bad
    reason: pl.Expr  # null where the cell is fine (or blank)


def is_blank(raw: pl.Expr) -> pl.Expr:
    """Tell which cells are null, empty or only white space (full-width spaces included)."""
    text = raw.cast(pl.Utf8)
    return text.is_null() | (text.str.strip_chars() == "")


def _compact(raw: pl.Expr) -> pl.Expr:
    """Half-width, with every white space removed: the form numbers and dates are read in."""
    return halfwidth_expr(raw).str.replace_all(r"\s+", "")


def _blank_for(raw: pl.Expr, column: Column) -> pl.Expr:
    if column.type in ("int", "money", "number"):
        return is_blank(raw) | _compact(raw).is_in(NUMERIC_BLANKS)
    return is_blank(raw)


def _when_chain(cases: list[tuple[pl.Expr, str]]) -> pl.Expr:
    """Return the message of the first case that holds, else null."""
    chain = pl.when(cases[0][0]).then(pl.lit(cases[0][1]))
    for condition, message in cases[1:]:
        chain = chain.when(condition).then(pl.lit(message))
    return chain.otherwise(_NULL_STR)


# Dates


def _year_prefix(year: int | pl.Expr) -> pl.Expr:
    if isinstance(year, pl.Expr):
        return year.cast(pl.Utf8).str.zfill(4) + pl.lit("-")
    return pl.lit(f"{year:04d}-")


def _parse_date(raw: pl.Expr, year: int | pl.Expr) -> _Checked:
    text = (
        halfwidth_expr(raw)
        .str.strip_chars()
        .str.replace(_TIME_OF_DAY, "")
        .str.replace_all(r"\s+", "")
    )
    full = text.str.contains(_FULL_DATE)
    compact = text.str.contains(_COMPACT_DATE)
    yearless = text.str.contains(_YEARLESS_DATE)
    dashed = text.str.replace_many(*_DATE_SEPARATORS)
    iso = (
        pl.when(full)
        .then(dashed)
        .when(compact)
        .then(
            pl.concat_str(
                [text.str.slice(0, 4), text.str.slice(4, 2), text.str.slice(6, 2)], separator="-"
            )
        )
        .when(yearless)
        .then(_year_prefix(year) + dashed)
    )
    written = iso.str.strptime(pl.Date, "%Y-%m-%d", strict=False)

    serial = pl.when(text.str.contains(_SERIAL)).then(
        text.cast(pl.Float64, strict=False).floor().cast(pl.Int64)
    )
    in_window = serial.is_between(SERIAL_MIN, SERIAL_MAX)
    from_serial = pl.when(in_window).then(pl.lit(EXCEL_EPOCH) + pl.duration(days=serial))

    parsed = pl.coalesce(written, from_serial)
    value = pl.when(parsed >= FIRST_TRUE_DATE).then(parsed)
    reason = (
        pl.when(value.is_not_null())
        .then(_NULL_STR)
        .when(parsed.is_not_null())
        .then(pl.lit("不是台账日期：早于 1900-03-01，Excel 显示为时间或 ####（单元格里可能只填了时间），请填写完整日期"))
        .when(iso.is_not_null())
        .then(pl.lit("日期不存在（请检查月份和日）"))
        .when(serial.is_not_null())
        .then(pl.lit("数字超出Excel日期的范围"))
        .otherwise(pl.lit("不是可识别的日期（可填：2024-03-05、2024/3/5、2024年3月5日、20240305）"))
    )
    return _Checked(value, reason)


EPOCH_1904 = date(1904, 1, 1)


def serials_from_1904(raw: pl.Expr) -> pl.Expr:
    """A 1904 workbook's date serials typed as plain numbers, as the dates they mean there.

    `_parse_date` reads a serial from Excel's 1900 epoch; in a workbook of the 1904 date system
    (Excel for Mac) the same number is the day 1,462 days later. Every other cell is left as it
    is (dates in a date format are already shifted by the readers, as Excel shows them).
    """
    text = raw.str.strip_chars()
    serial = pl.when(text.str.contains(_SERIAL)).then(text.cast(pl.Float64, strict=False).floor().cast(pl.Int64))
    moved = (pl.lit(EPOCH_1904) + pl.duration(days=serial)).dt.strftime("%Y-%m-%d")
    in_window = (serial + 1462).is_between(SERIAL_MIN, SERIAL_MAX)
    return pl.when(in_window).then(moved).otherwise(raw)


# Counts and amounts


class _Number(NamedTuple):
    text: pl.Expr  # compact text, unit suffix removed
    unit: pl.Expr  # the unit suffix, or ""
    matched: pl.Expr  # the text is a number
    negative: pl.Expr  # with a minus sign and not zero
    digits: pl.Expr  # the integer part, commas and sign removed ("" for `.5`)
    fractional: pl.Expr  # has non-zero digits after the decimal point


def _number_parts(
    raw: pl.Expr, units: tuple[str, ...], shape: str, *, currency: bool = False
) -> _Number:
    text = _compact(raw)
    if currency:
        text = text.str.strip_chars_start("¥￥")
    unit = pl.lit("")
    if units:
        # Longest first, so that 人次 is not read as 人 and 万元 not as 元.
        suffix = "(" + "|".join(sorted(units, key=len, reverse=True)) + ")$"
        unit = text.str.extract(suffix, 1).fill_null("")
        text = text.str.replace(suffix, "")
    matched = text.str.contains(shape)
    negative = text.str.starts_with("-") & text.str.contains(r"[1-9]")
    unsigned = text.str.strip_chars_start("+-").str.replace_all(",", "", literal=True)
    digits = unsigned.str.replace(r"\..*$", "")
    fractional = unsigned.str.contains(r"\.\d*[1-9]")
    return _Number(unsigned, unit, matched, negative, digits, fractional)


def _minimum_reason(value: pl.Expr, column: Column) -> tuple[pl.Expr, str] | None:
    if column.minimum is None:
        return None
    return (value < column.minimum, f"不能小于{column.minimum}")


def _finish(value: pl.Expr, cases: list[tuple[pl.Expr, str]]) -> _Checked:
    reason = _when_chain(cases)
    return _Checked(pl.when(reason.is_null()).then(value), reason)


def _parse_int(raw: pl.Expr, column: Column) -> _Checked:
    n = _number_parts(raw, COUNT_UNITS, _PLAIN_NUMBER)
    value = n.digits.cast(pl.Int64, strict=False)
    cases = [
        (~n.matched, "不是数字"),
        (n.negative, "不能为负数"),
        (n.fractional, "不是整数（不能为小数）"),
        (value.is_null(), "数字过大"),
    ]
    if minimum := _minimum_reason(value, column):
        cases.append(minimum)
    return _finish(value, cases)


def _parse_money(raw: pl.Expr, column: Column, scale: float | pl.Expr) -> _Checked:
    n = _number_parts(raw, MONEY_UNITS, _DECIMAL_NUMBER, currency=True)
    # A cell's own unit wins over the header's: `0.12万` in a （万元） column is 1200 yuan.
    factor = (
        pl.when(n.unit.str.starts_with("万"))
        .then(pl.lit(10000.0))
        .when(n.unit == "千元")  # what a format `#,##0,"千元"` shows
        .then(pl.lit(1000.0))
        .when(n.unit == "元")
        .then(pl.lit(1.0))
        .otherwise(scale.cast(pl.Float64) if isinstance(scale, pl.Expr) else pl.lit(float(scale)))
    )
    value = (n.text.cast(pl.Float64, strict=False) * factor).round(2)
    cases = [(~n.matched, "不是有效金额"), (n.negative, "不能为负数")]
    if minimum := _minimum_reason(value, column):
        cases.append(minimum)
    return _finish(value, cases)


def _parse_number(raw: pl.Expr, column: Column) -> _Checked:
    n = _number_parts(raw, (), _DECIMAL_NUMBER)
    value = n.text.cast(pl.Float64, strict=False)
    cases = [(~n.matched, "不是数字"), (n.negative, "不能为负数")]
    if minimum := _minimum_reason(value, column):
        cases.append(minimum)
    return _finish(value, cases)


# Yes/no and enumerations


def _parse_bool(raw: pl.Expr) -> _Checked:
    key = _compact(raw).str.to_lowercase()
    mapping = {word: True for word in YES} | {word: False for word in NO}
    value = key.replace_strict(mapping, default=None, return_dtype=pl.Boolean)
    reason = pl.when(value.is_null()).then(
        pl.lit("不是“是/否”（可填：是、否、√、×、Y、N、有、无）")
    )
    return _Checked(value, reason)


def _enum_key(text: str) -> str:
    return normalise_value(text).lower()


def enum_mapping(column: Column) -> dict[str, str]:
    """Map each allowed value and alias, normalised and lower-cased, to its canonical value."""
    mapping = {_enum_key(alias): value for alias, value in column.value_aliases.items()}
    mapping.update({_enum_key(value): value for value in column.values})
    return mapping


def _parse_enum(raw: pl.Expr, column: Column) -> _Checked:
    key = normalise_value_expr(raw).str.to_lowercase()
    value = key.replace_strict(enum_mapping(column), default=None, return_dtype=pl.Utf8)
    allowed = "、".join(column.values)
    reason = pl.when(value.is_null()).then(pl.lit(f"不在允许的取值内（可填：{allowed}）"))
    return _Checked(value, reason)


# Text and names


def _parse_text(raw: pl.Expr) -> _Checked:
    # strip_chars() trims Unicode white space, the ideographic space U+3000 included.
    return _Checked(raw.str.strip_chars(), _NULL_STR)


def _parse_names(raw: pl.Expr) -> _Checked:
    joined = raw.str.replace_all(r"[、，,;；\s]+", "、").str.strip_chars("、")
    # Runs of separators are one 、 now and none is left at either end, so only an empty
    # text splits into an empty name.
    value = (
        pl.when(joined == "")
        .then(pl.lit([], dtype=pl.List(pl.Utf8)))
        .otherwise(joined.str.split("、"))
    )
    return _Checked(value, _NULL_STR)


def _checked(raw: pl.Expr, column: Column, year: int | pl.Expr, scale: float | pl.Expr) -> _Checked:
    match column.type:
        case "date":
            return _parse_date(raw, year)
        case "int":
            return _parse_int(raw, column)
        case "money":
            return _parse_money(raw, column, scale)
        case "number":
            return _parse_number(raw, column)
        case "bool":
            return _parse_bool(raw)
        case "enum":
            return _parse_enum(raw, column)
        case "text":
            return _parse_text(raw)
        case "names":
            return _parse_names(raw)
    raise ValueError(f"unknown column type {column.type!r}")


def parse_cell(
    raw: pl.Expr, column: Column, *, year: int | pl.Expr, scale: float | pl.Expr = 1.0
) -> ParsedCell:
    """Parse a raw Utf8 column by the column's type; `year` completes dates like 3月5日.

    `year` and `scale` may be expressions, so that one pass parses many sheets at once.
    """
    dtype = VALUE_DTYPES[column.type]
    # A column with no text at all reaches us as dtype Null, and numbers from a typed
    # frame as numbers: parse them all as the text they show.
    raw = raw.cast(pl.Utf8)
    blank = _blank_for(raw, column)
    checked = _checked(raw, column, year, scale)
    value = (
        pl.when(blank)
        .then(pl.lit(column.default, dtype=dtype))
        .otherwise(checked.value.cast(dtype))
    )
    missing = column.required and column.default is None
    rule_code = RULES.get(column.type)
    blank_rule = pl.lit(REQUIRED_RULE if missing else None, dtype=pl.Utf8)
    blank_reason = pl.lit(REQUIRED_REASON if missing else None, dtype=pl.Utf8)
    bad_rule = pl.when(checked.reason.is_not_null()).then(pl.lit(rule_code, dtype=pl.Utf8))
    rule = pl.when(blank).then(blank_rule).otherwise(bad_rule)
    reason = pl.when(blank).then(blank_reason).otherwise(checked.reason)
    return ParsedCell(value, rule, reason)


# The fast path: the clean forms most cells take, parsed without the machinery above.


class FastCell(NamedTuple):
    """A cheap parse of the clean forms, and which cells it settles."""

    value: pl.Expr  # where `settled`, exactly parse_cell's value; elsewhere meaningless
    settled: pl.Expr  # Boolean: a fine cell whose value is known, so parse_cell can skip it


# Written as [0-9], not \d: polars' regex \d is Unicode and takes full-width digits too.
_CLEAN_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?: 00:00:00)?$"
_CLEAN_COUNT = r"^[0-9]+$"
_CLEAN_DECIMAL = r"^[0-9]+(?:\.[0-9]+)?$"


def fast_cell(raw: pl.Expr, column: Column, *, scale: float | pl.Expr = 1.0) -> FastCell:
    """Parse the clean forms of a column (2024-03-05, 12, 1200.5, an exact enum value) cheaply.

    Every settled cell gets the value `parse_cell` gives it and has no problem; the others
    (messy, bad or blank where required) are left to `parse_cell`.
    """
    raw = raw.cast(pl.Utf8)
    dtype = VALUE_DTYPES[column.type]
    if column.type == "names":
        return _fast_names(raw, column, dtype)
    if column.type == "text":  # already cheap: parse_cell is the fast path
        cell = parse_cell(raw, column, year=0, scale=scale)
        # Text has no rule but 必填: only a blank where a value is required is left.
        missing = column.required and column.default is None
        return FastCell(cell.value, ~is_blank(raw) if missing else pl.lit(True))
    value: pl.Expr
    if column.type == "date":
        value = raw.str.slice(0, 10).str.strptime(pl.Date, "%Y-%m-%d", strict=False)
        clean = raw.str.contains(_CLEAN_DATE) & (value >= FIRST_TRUE_DATE)
    elif column.type == "int":
        value = raw.cast(pl.Int64, strict=False)
        clean = raw.str.contains(_CLEAN_COUNT) & value.is_not_null()
    elif column.type in ("money", "number"):
        value = raw.cast(pl.Float64, strict=False)
        if column.type == "money":
            factor = scale.cast(pl.Float64) if isinstance(scale, pl.Expr) else pl.lit(float(scale))
            value = (value * factor).round(2)
        clean = raw.str.contains(_CLEAN_DECIMAL) & value.is_not_null()
    else:  # bool, enum: only the spellings that the normalisation leaves as they are
        mapping = _stable_mapping(column)
        value = raw.replace_strict(mapping, default=None, return_dtype=dtype) if mapping else pl.lit(None, dtype)
        clean = value.is_not_null()
    if column.minimum is not None and column.type in ("int", "money", "number"):
        clean = clean & (value >= column.minimum)
    # A null cell is blank: its default, unless the column needs a value.
    blank_ok = column.default is not None or not column.required
    settled = clean | raw.is_null() if blank_ok else clean
    value = pl.when(raw.is_null()).then(pl.lit(column.default, dtype=dtype)).otherwise(value.cast(dtype))
    return FastCell(value, settled.fill_null(False))


def _bool_key(raw: pl.Expr) -> pl.Expr:
    return _compact(raw).str.to_lowercase()


def _enum_key_expr(raw: pl.Expr) -> pl.Expr:
    return normalise_value_expr(raw).str.to_lowercase()


@lru_cache(maxsize=256)
def _stable_mapping(column: Column) -> dict[str, object]:
    """The keys of a bool or enum mapping that its own normalisation maps to themselves.

    A cell equal to such a key gets the same value whether or not it is normalised first,
    which is what lets the fast path skip the normalisation. Checked with polars itself.
    """
    if column.type == "bool":
        mapping: dict[str, object] = {word: True for word in YES} | {word: False for word in NO}
        key = _bool_key
    else:
        mapping = dict(enum_mapping(column))
        key = _enum_key_expr
    keys = pl.Series("k", list(mapping), dtype=pl.Utf8)
    normalised = pl.DataFrame({"k": keys}).select(key(pl.col("k"))).to_series()
    return {k: mapping[k] for k, n in zip(keys.to_list(), normalised.to_list(), strict=True) if k and k == n}


# What the names regex treats as a separator; Unicode white space as Rust's \s has it.
_NAME_SEPARATORS = ["、、", "，", ",", ";", "；", *WHITESPACE_CHARS]


def _fast_names(raw: pl.Expr, column: Column, dtype: pl.DataType) -> FastCell:
    """Names already written one 、 apart split as they are: no separator run to collapse."""
    clean = ~(raw.str.contains_any(_NAME_SEPARATORS) | raw.str.starts_with("、") | raw.str.ends_with("、"))
    blank = raw.is_null() | (raw == "")
    value = pl.when(blank).then(pl.lit(column.default, dtype=dtype)).otherwise(raw.str.split("、"))
    missing = column.required and column.default is None
    settled = (clean & ~blank) | (blank & pl.lit(not missing))
    return FastCell(value, settled.fill_null(False))
