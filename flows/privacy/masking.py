"""Mask personal data before it reaches the warehouse, and check ID numbers' check characters.

Templates section 5: a resident ID keeps its first 6 and last 4 characters, a phone number
its first 3 and last 4, a person's name its surname followed by 某 (as penalty notices
print it). A keyed hash of the clear value may sit beside the masked one, so that a
repeat party can still be recognised without the clear value being stored.
"""

from __future__ import annotations

import functools
import hashlib
import re

import polars as pl

from flows.textnorm import halfwidth_expr

# Compound surnames (复姓) kept whole: 欧阳娜娜 -> 欧阳某某, not 欧某某某.
COMPOUND_SURNAMES = (
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "令狐",
    "夏侯", "司徒", "司空", "端木", "独孤", "南宫", "西门", "宇文", "万俟", "呼延", "轩辕",
    "澹台", "公羊", "赫连", "拓跋", "申屠", "闻人", "钟离", "宗政", "濮阳", "太史", "仲孙",
    "淳于", "单于", "百里", "东郭", "南门", "羊舌", "微生", "梁丘", "左丘", "谷梁", "乐正",
    "巫马", "公良", "漆雕", "壤驷", "公西", "第五", "鲜于", "闾丘", "亓官", "司寇", "子车",
    "颛孙", "段干", "东里", "呼衍", "马佳",
)  # fmt: skip

# GB 11643-1999: resident ID check digit.
RESIDENT_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_CHECK = "10X98765432"
# GB 32100-2015: unified social credit code check character.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_RESIDENT_SHAPE = r"^[0-9]{17}[0-9X]$"
# Birth date in positions 7-14: what tells a resident ID from an all-digit credit code.
_RESIDENT_BIRTH = r"^[0-9]{6}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
_USCC_CHAR = "[0-9A-HJ-NPQRTUWXY]"
_USCC_SHAPE = f"^{_USCC_CHAR}{{2}}[0-9]{{6}}{_USCC_CHAR}{{10}}$"

# What free text writes a number with. Digits may be full-width (input methods switch at
# will); groups may be split by spaces, hyphens or dots (`138 1234 5678`, `0954-1234567`).
_D = "[0-9\uff10-\uff19]"
_X = "[0-9\uff10-\uff19XxＸｘ]"
_S = "[ \t\u00a0\u3000\\-\uff0d\u2010\u2011\u2012\u2013\u2014.\uff0e]"
_NOT_D = "[^0-9\uff10-\uff19]"
_BEFORE = f"(^|{_NOT_D})"
_AFTER = f"($|{_NOT_D})"
_OPEN = "[(\uff08]"
_CLOSE = "[)\uff09]"

# polars' regex engine has no look-around, so the character before and after an embedded
# number is captured and put back; a second pass catches numbers that share a boundary.
# A resident ID: 6-digit area, 8-digit birth date, 3-digit sequence, check character; any
# two of its characters may be split by one separator. The middle 8 are starred.
_EMBEDDED_ID = f"{_BEFORE}({_D}(?:{_S}?{_D}){{5}})(?:{_S}?{_D}){{8}}{_S}?({_D}(?:{_S}?{_D}){{2}}{_S}?{_X}){_AFTER}"
# The old 15-digit ID: 6-digit area, yymmdd, 3-digit sequence (no check character), split
# anywhere like the new one. The month and day are checked loosely, so that other 15-digit
# numbers are less often taken.
_EMBEDDED_ID15 = (
    f"{_BEFORE}({_D}(?:{_S}?{_D}){{5}}){_S}?{_D}{_S}?{_D}{_S}?[01\uff10\uff11]{_S}?{_D}{_S}?[0-3\uff10-\uff13]{_S}?"
    f"({_D}){_S}?({_D}(?:{_S}?{_D}){{2}}){_AFTER}"
)
# A mobile: 11 digits from 13x … 19x, maybe after +86 / 86 / 0086, maybe split into groups.
_EMBEDDED_MOBILE = (
    f"{_BEFORE}((?:(?:\\+|\uff0b|00)?86{_S}?)?[1\uff11]{_S}?[3-9\uff13-\uff19]{_S}?{_D})"
    f"(?:{_S}?{_D}){{4}}{_S}?({_D}(?:{_S}?{_D}){{3}}){_AFTER}"
)
# A landline: a 3- or 4-digit area code starting with 0 (maybe in brackets, maybe followed
# by a separator), then a 7- or 8-digit number; its first 3 and last 4 digits are kept.
_EMBEDDED_LANDLINE = (
    f"{_BEFORE}({_OPEN}?[0\uff10]{_D}{{2}})(?:{_D}?{_CLOSE}?{_S}?(?:{_D}{_S}?){{3,4}})({_D}(?:{_S}?{_D}){{3}}){_AFTER}"
)
_MASKS = (
    (_EMBEDDED_ID, "${1}${2}********${3}${4}"),
    (_EMBEDDED_ID15, "${1}${2}*****${3}${4}${5}"),
    (_EMBEDDED_MOBILE, "${1}${2}****${3}${4}"),
    (_EMBEDDED_LANDLINE, "${1}${2}****${3}${4}"),
)
# A cell worth the masks has a run of at least 7 digits, maybe split by separators.
_DIGIT_RUN = f"{_D}(?:{_S}?{_D}){{6}}"
_DIGIT_RUN_RE = re.compile(_DIGIT_RUN)


def _all_stars(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(r"(?s).", "*")


def _keep_ends(expr: pl.Expr, head: int, tail: int) -> pl.Expr:
    """Star every character but the first `head` and last `tail`; shorter values wholly."""
    length = expr.str.len_chars()
    middle = _all_stars(expr.str.slice(head, length - head - tail))
    kept = pl.concat_str([expr.str.slice(0, head), middle, expr.str.slice(-tail, tail)])
    return pl.when(length > head + tail).then(kept).otherwise(_all_stars(expr))


def _compact(expr: pl.Expr) -> pl.Expr:
    return halfwidth_expr(expr.cast(pl.Utf8)).str.replace_all(r"\s+", "")


def mask_person_name(expr: pl.Expr) -> pl.Expr:
    """Keep a name's surname and write 某 for each other character (王小明 -> 王某某)."""
    name = expr.cast(pl.Utf8).str.replace_all(r"\s+", "")
    compound = name.str.slice(0, 2).is_in(COMPOUND_SURNAMES) & (name.str.len_chars() > 2)
    keep = pl.when(compound).then(2).otherwise(1)
    # Dots of transliterated names (买买提·艾力) stay, so the shape of the name is kept.
    given = name.str.slice(keep).str.replace_all(r"[^·•・]", "某")
    masked = pl.concat_str([name.str.slice(0, keep), given])
    return pl.when(name.str.len_chars() == 1).then(name + "某").otherwise(masked)


# What separates the names of a `names` cell (cells.py splits on the same, Unicode spaces
# as Rust's \s has them): a name is a run of anything else.
_NAME_OR_SEPARATORS = r"[^、，,;；\s]+|[、，,;；\s]+"
_NAME_SEPARATORS = r"^[、，,;；\s]+$"


def mask_person_names(expr: pl.Expr) -> pl.Expr:
    """Mask every name of a list of names (["王小明", "欧阳娜娜"] -> ["王某某", "欧阳某某"])."""
    return expr.map_batches(_mask_names_series, return_dtype=pl.List(pl.Utf8))


def mask_names_text(expr: pl.Expr) -> pl.Expr:
    """Mask every name of a cell of names as written, its separators kept (苏国、王强海 -> 苏某、王某某)."""
    return expr.cast(pl.Utf8).map_batches(_mask_names_text_series, return_dtype=pl.Utf8)


def _distinct_masked(values: pl.Series, mask) -> tuple[pl.Series, pl.Series]:
    # A few officers sign thousands of rows: mask each distinct value once (a tenth of the time).
    distinct = values.drop_nulls().unique()
    return distinct, pl.DataFrame({"v": distinct}).select(mask(pl.col("v"))).to_series()


def _mask_names_series(series: pl.Series) -> pl.Series:
    distinct, masked = _distinct_masked(series.explode(empty_as_null=False), mask_person_name)
    return series.list.eval(pl.element().replace_strict(distinct, masked, default=None, return_dtype=pl.Utf8))


def _mask_names_text_series(series: pl.Series) -> pl.Series:
    distinct, masked = _distinct_masked(series, _mask_names_in_text)
    return series.replace_strict(distinct, masked, default=None, return_dtype=pl.Utf8)


def _mask_names_in_text(text: pl.Expr) -> pl.Expr:
    tokens = text.str.extract_all(_NAME_OR_SEPARATORS)
    masked = tokens.list.eval(
        pl.when(pl.element().str.contains(_NAME_SEPARATORS)).then(pl.element())
        .otherwise(mask_person_name(pl.element()))
    ).list.join("")
    return pl.when(text == "").then(text).otherwise(masked)


def mask_id_number(expr: pl.Expr) -> pl.Expr:
    """Keep an ID number's first 6 and last 4 characters (640422********1234)."""
    value = _compact(expr)
    return (
        pl.when(value.str.len_chars() >= 11)
        .then(_keep_ends(value, 6, 4))
        .otherwise(_all_stars(value))
    )


def mask_phone(expr: pl.Expr) -> pl.Expr:
    """Keep a phone number's first 3 and last 4 characters (138****5678)."""
    return _keep_ends(_compact(expr), 3, 4)


def mask_free_text(expr: pl.Expr) -> pl.Expr:
    """Mask every resident ID (18 or 15 digits) and mobile or landline number inside free text."""
    return expr.cast(pl.Utf8).map_batches(_mask_free_series, return_dtype=pl.Utf8)


def _replace_where_found(series: pl.Series, pattern: str, replacement: str) -> pl.Series:
    """Replace a pattern's matches only in the values where it is found (finding is far cheaper)."""
    # Twice: the character around a number is consumed with it, so a number that shares it
    # with the one before is found by the second pass.
    for _ in range(2):
        found = series.str.contains(pattern).fill_null(False)
        if not found.any():
            break
        positions = found.arg_true()
        series = series.scatter(positions, series.gather(positions).str.replace_all(pattern, replacement))
    return series


def _mask_free_series(series: pl.Series) -> pl.Series:
    # Most cells hold no run of 7 digits: one cheap scan finds the few that need the masks.
    candidates = series.str.contains(_DIGIT_RUN).fill_null(False)
    if not candidates.any():
        return series
    positions = candidates.arg_true()
    masked = series.gather(positions)
    for pattern, replacement in _MASKS:
        masked = _replace_where_found(masked, pattern, replacement)
    return series.clone().scatter(positions, masked)


def mask_text(text: str | None) -> str | None:
    """Mask one string like `mask_free_text` (reasons, messages: a few, not a column)."""
    return None if text is None else mask_texts([text])[0]


# Words that mark a column a template does not have as holding a person's data, by kind.
# An ID's words come first: 证件号码 is an ID number, not a phone, though it says 号码.
ID_HEADER_WORDS = ("身份证", "证件", "身份号")
PHONE_HEADER_WORDS = ("电话", "手机", "号码", "联系方式", "手机号", "微信")
NAME_HEADER_WORDS = (
    "姓名", "名字", "来电人", "联系人", "当事人", "负责人", "法定代表人", "法人代表", "举报人",
    "投诉人", "求助人", "反映人", "报案人", "监护人", "户主", "家属",
)  # fmt: skip


def personal_kind_of_header(header: str | None) -> str | None:
    """Tell what personal data a header that no template column has names: id_number, phone, person_name."""
    if not header:
        return None
    text = "".join(header.split())
    for kind, words in (("id_number", ID_HEADER_WORDS), ("phone", PHONE_HEADER_WORDS),
                        ("person_name", NAME_HEADER_WORDS)):
        if any(word in text for word in words):
            return kind
    return None


def mask_by_kind(expr: pl.Expr, kind: str | None) -> pl.Expr:
    """Mask a column of a known personal kind, else mask the IDs and phones written in it."""
    match kind:
        case "person_name":
            return mask_person_name(expr)
        case "id_number":  # the free-text masks first: a phone in an ID column keeps its own form
            return mask_id_number(mask_free_text(expr))
        case "phone":
            return mask_phone(mask_free_text(expr))
    return mask_free_text(expr)


def mask_texts(texts: list[str | None]) -> list[str | None]:
    """Mask many strings like `mask_free_text`, in one pass."""
    # Most texts hold no run of 7 digits: skip the query for them (it costs more than a check).
    if not any(t is not None and _DIGIT_RUN_RE.search(t) for t in texts):
        return list(texts)
    frame = pl.DataFrame({"t": texts}, schema={"t": pl.Utf8})
    return frame.select(mask_free_text(pl.col("t"))).to_series().to_list()


def keyed_hash(series: pl.Series, key: str) -> pl.Series:
    """Hash each value with a secret key (first 16 hex of sha256(key || value)); nulls stay."""
    return keyed_hashes(pl.DataFrame({series.name: series}), key).to_series().alias(series.name)


_HASH_SLICE = 100_000


def keyed_hashes(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    """Hash every column of a frame like `keyed_hash`; names and order are kept.

    Each distinct value is hashed once, from a copy of the hash state that has already read
    the key (the key's block is not hashed again per value): half the CPU of DuckDB's
    `sha256(key || value)` over every row, a fifth where values repeat (a party in many cases).
    """
    if frame.width == 0:
        return frame
    keyed = hashlib.sha256(key.encode("utf-8"))
    columns = []
    for series in frame.get_columns():
        values = series.cast(pl.Utf8)
        distinct = values.drop_nulls().unique()
        hashes = [pl.Series([], dtype=pl.Utf8)]
        # In slices, so that a rekey of a whole table never holds millions of Python strings.
        for start in range(0, distinct.len(), _HASH_SLICE):
            digests = []
            for value in distinct.slice(start, _HASH_SLICE).to_list():
                state = keyed.copy()
                state.update(value.encode("utf-8"))
                digests.append(state.hexdigest()[:16])
            hashes.append(pl.Series(digests, dtype=pl.Utf8))
        columns.append(values.replace_strict(distinct, pl.concat(hashes), default=None,
                                             return_dtype=pl.Utf8).alias(series.name))
    return pl.DataFrame(columns, height=frame.height)


def normalise_id_expr(expr: pl.Expr) -> pl.Expr:
    """Normalise an ID number for checking and hashing: half-width, no spaces, upper case."""
    return _compact(expr).str.to_uppercase()


def id_kind_expr(expr: pl.Expr) -> pl.Expr:
    """Tell what an ID number is: resident_id, uscc, other, or null when blank."""
    return _kind_of_normalised(normalise_id_expr(expr))


def _kind_of_normalised(value: pl.Expr) -> pl.Expr:
    resident = value.str.contains(_RESIDENT_SHAPE)
    return (
        pl.when(value.is_null() | (value == ""))
        .then(pl.lit(None, dtype=pl.Utf8))
        .when(resident & value.str.contains(_RESIDENT_BIRTH))
        .then(pl.lit("resident_id"))
        .when(value.str.contains(_USCC_SHAPE))
        .then(pl.lit("uscc"))
        .when(resident)
        .then(pl.lit("resident_id"))
        .otherwise(pl.lit("other"))
    )


# The check characters as byte arithmetic over the rows of one kind at once: the ID's 18
# ASCII characters as a row of an (n, 18) byte matrix, weighted by a matrix product. Spelled as
# polars expressions (17 slices, casts and lookups per row) this cost ~6 µs a row, more than
# everything else the loader does to a row of the cases ledger.


@functools.cache
def _check_tables():
    """The weights and check characters as numpy arrays (numpy imported only when IDs are checked)."""
    import numpy as np

    uscc_code = np.full(256, -1, dtype=np.int64)  # byte -> the character's value in the alphabet
    uscc_code[np.frombuffer(USCC_ALPHABET.encode("ascii"), dtype=np.uint8)] = np.arange(len(USCC_ALPHABET))
    return (np, np.array(RESIDENT_WEIGHTS, dtype=np.int64), np.frombuffer(RESIDENT_CHECK.encode("ascii"), dtype=np.uint8),
            np.array(USCC_WEIGHTS, dtype=np.int64), uscc_code)


def _id_bytes(values: pl.Series):
    """The (n, 18) byte matrix of values that are 18 ASCII characters each (their shape was checked)."""
    np = _check_tables()[0]
    joined = b"".join(v.encode("ascii") for v in values.to_list())
    return np.frombuffer(joined, dtype=np.uint8).reshape(-1, 18)


def _resident_check_ok(chars):
    np, weights, expected, _, _ = _check_tables()
    total = (chars[:, :17].astype(np.int64) - ord("0")) @ weights
    return chars[:, 17] == expected[total % 11]


def _uscc_check_ok(chars):
    _, _, _, weights, code = _check_tables()
    total = code[chars[:, :17]] @ weights
    return code[chars[:, 17]] == (31 - total % 31) % 31


def _check_characters_hold(values: pl.Series) -> pl.Series:
    """Whether each normalised ID's check character holds; null when blank or of no known kind."""
    kinds = values.to_frame("v").select(_kind_of_normalised(pl.col("v"))).to_series()
    holds = pl.Series(values.name, [None] * values.len(), dtype=pl.Boolean)
    for kind, check_ok in (("resident_id", _resident_check_ok), ("uscc", _uscc_check_ok)):
        positions = (kinds == kind).fill_null(False).arg_true()
        if positions.len():
            holds = holds.scatter(positions, pl.Series(check_ok(_id_bytes(values.gather(positions)))))
    return holds


def id_valid_expr(expr: pl.Expr) -> pl.Expr:
    """Tell whether an ID number's check character holds; null when blank or of no known kind."""
    return normalise_id_expr(expr).map_batches(_check_characters_hold, return_dtype=pl.Boolean)


def valid_resident_id(prefix17: str) -> str:
    """Append the GB 11643 check digit to 17 digits."""
    if len(prefix17) != 17 or not prefix17.isascii() or not prefix17.isdigit():
        raise ValueError(f"need 17 digits, got {prefix17!r}")
    total = sum(int(c) * w for c, w in zip(prefix17, RESIDENT_WEIGHTS, strict=True))
    return prefix17 + RESIDENT_CHECK[total % 11]


def valid_uscc(prefix17: str) -> str:
    """Append the GB 32100 check character to the first 17 characters of a credit code."""
    if len(prefix17) != 17 or any(c not in USCC_ALPHABET for c in prefix17):
        raise ValueError(f"need 17 characters of {USCC_ALPHABET}, got {prefix17!r}")
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(prefix17, USCC_WEIGHTS, strict=True))
    return prefix17 + USCC_ALPHABET[(31 - total % 31) % 31]
