"""What a ledger file's name (or a workbook sheet's name) says: period, year, date, revision.

Clerks name files by hand, so a period hides anywhere in the name, in any of the forms
the templates allow (`执法检查台账2024年3月（修订）.xlsx`, `2024-03_v2.xlsx`).
"""

from __future__ import annotations

import re
from datetime import date

from flows.textnorm import to_halfwidth

# Digits are written [0-9] because \d would also take other scripts' digits.
_NO_DIGIT_BEFORE = r"(?<![0-9])"
_NO_DIGIT_AFTER = r"(?![0-9])"
_YEAR = r"(20[0-9]{2})"

# A full date's digits belong to that date: the tail of `20241231` is no month, and the
# `2024-03` inside `2024-03-05` is only read as a period when nothing better is there.
_DATE_FORMS = (
    re.compile(
        _NO_DIGIT_BEFORE
        + r"(?P<y>20[0-9]{2})\s*年\s*(?P<m>[0-9]{1,2})\s*月\s*(?P<d>[0-9]{1,2})\s*日"
    ),
    re.compile(
        _NO_DIGIT_BEFORE
        + r"(?P<y>20[0-9]{2})(?P<sep>[-_./])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})"
        + _NO_DIGIT_AFTER
    ),
    re.compile(
        _NO_DIGIT_BEFORE + r"(?P<y>20[0-9]{2})(?P<m>[0-9]{2})(?P<d>[0-9]{2})" + _NO_DIGIT_AFTER
    ),
)
_PERIOD_FORMS = (
    re.compile(_NO_DIGIT_BEFORE + _YEAR + r"\s*年\s*([0-9]{1,2})\s*月"),
    re.compile(_NO_DIGIT_BEFORE + _YEAR + r"[-_.]([0-9]{1,2})" + _NO_DIGIT_AFTER),
    re.compile(_NO_DIGIT_BEFORE + _YEAR + r"([0-9]{2})" + _NO_DIGIT_AFTER),
)
_YEAR_FORM = re.compile(_NO_DIGIT_BEFORE + _YEAR + _NO_DIGIT_AFTER)

_CHINESE_NUMBERS = {
    "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6,
    "七": 7, "八": 8, "九": 9, "十": 10, "十一": 11, "十二": 12,
}  # fmt: skip
_CHINESE_NUMBER = "(十二|十一|十|一|二|三|四|五|六|七|八|九)"
_REVISION_FORMS = (
    re.compile(r"(?:修订|更正)(?:版|稿)?\s*(?:([0-9]+)|" + _CHINESE_NUMBER + r")?"),
    re.compile(r"第\s*(?:([0-9]+)|" + _CHINESE_NUMBER + r")\s*次\s*(?:修订|更正)"),
    re.compile(r"(?<![A-Za-z])[vV]\s*([0-9]+)" + _NO_DIGIT_AFTER),
)

_SHEET_FORMS = (
    re.compile(r"(?:" + _YEAR + r"年)?([0-9]{1,2})月份?"),
    re.compile(r"([0-9]{1,2})"),
    re.compile(_YEAR + r"[-_.]?([0-9]{1,2})月?"),
)
_SHEET_CHINESE = re.compile(_CHINESE_NUMBER + r"月份?")


def _date_or_none(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _dates_in(text: str) -> list[tuple[int, int, date | None]]:
    """Return (start, end, date or None when impossible) of every full date, in order."""
    found = []
    for pattern in _DATE_FORMS:
        for match in pattern.finditer(text):
            day = _date_or_none(int(match["y"]), int(match["m"]), int(match["d"]))
            found.append((match.start(), match.end(), day))
    return sorted(found, key=lambda item: item[0])


def snapshot_date_from_name(name: str) -> date | None:
    """Return the full date a name holds (2024-12-31, 20241231, 2024年12月31日, 2024.12.31)."""
    for _, _, day in _dates_in(to_halfwidth(name)):
        if day is not None:
            return day
    return None


def period_from_name(name: str) -> tuple[int, int] | None:
    """Return the (year, month) a file name holds, or None when it names no month."""
    text = to_halfwidth(name)
    dates = _dates_in(text)
    for pattern in _PERIOD_FORMS:
        for match in pattern.finditer(text):
            inside_date = any(
                start < match.end() and match.start() < end for start, end, _ in dates
            )
            year, month = int(match.group(1)), int(match.group(2))
            if not inside_date and 1 <= month <= 12:
                return year, month
    for _, _, day in dates:
        if day is not None:
            return day.year, day.month
    return None


def year_from_name(name: str) -> int | None:
    """Return the year a name holds (`2024年执法检查台账.xlsx` -> 2024), or None."""
    text = to_halfwidth(name)
    if (period := period_from_name(text)) is not None:
        return period[0]
    match = _YEAR_FORM.search(text)
    return int(match.group(1)) if match else None


def _revision_number(digits: str | None, chinese: str | None) -> int:
    if digits:
        return int(digits)
    if chinese:
        return _CHINESE_NUMBERS[chinese]
    return 1


def revision_from_name(name: str) -> int:
    """Return the revision a name marks: 0 for none, 修订/更正 1 (修订2 2), v2/V3 their number."""
    text = to_halfwidth(name)
    best = 0
    for pattern in _REVISION_FORMS[:2]:
        for match in pattern.finditer(text):
            best = max(best, _revision_number(match.group(1), match.group(2)))
    for match in _REVISION_FORMS[2].finditer(text):
        best = max(best, int(match.group(1)))
    return best


def month_from_sheet(sheet_name: str) -> int | None:
    """Return the month a yearly workbook's sheet is named after (`3月`, `03`, `2024年3月`)."""
    text = re.sub(r"\s+", "", to_halfwidth(sheet_name))
    month: int | None = None
    for pattern in _SHEET_FORMS:
        match = pattern.fullmatch(text)
        if match:
            month = int(match.groups()[-1])
            break
    else:
        match = _SHEET_CHINESE.fullmatch(text)
        if match:
            month = _CHINESE_NUMBERS[match.group(1)]
    if month is not None and 1 <= month <= 12:
        return month
    return None
