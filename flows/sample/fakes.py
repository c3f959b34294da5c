"""Realistic but fake personal data: names, resident IDs, credit codes, phones, venues.

Everything is drawn from a numpy Generator so that a seed gives the same people, and
arrays are built column-wise so that a benchmark can ask for millions at once.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from flows.privacy.masking import valid_resident_id, valid_uscc

COUNTY_CODE = "640422"  # 西吉县, 宁夏固原市

SURNAMES = list("马王李张杨田苏海何刘赵穆白冯罗金虎沙兰丁")
GIVEN = list("建国志强文明海燕秀兰玉梅小军晓东丽娟伟刚春生正福金花永平学成彦霞")

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
ID_CHECK = "10X98765432"
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])

SHOP_WORDS = list("星空蓝天金鼎阳光时代飞扬新华博文宏达鑫源兴隆永盛利民万家嘉禾")


def person_names(rng: np.random.Generator, n: int) -> pl.Series:
    """Draw n two- or three-character Chinese names."""
    surname = rng.choice(SURNAMES, n)
    first = rng.choice(GIVEN, n)
    second = np.where(rng.random(n) < 0.7, rng.choice(GIVEN, n), "")
    return pl.Series(np.char.add(np.char.add(surname, first), second), dtype=pl.Utf8)


def _join_chars(chars: np.ndarray) -> np.ndarray:
    """Join each row of a 2-D array of single characters into one string."""
    chars = np.ascontiguousarray(chars.astype("<U1"))
    return chars.view(f"<U{chars.shape[1]}").ravel()


def resident_ids(rng: np.random.Generator, n: int) -> pl.Series:
    """Draw n 18-digit resident IDs of the county with correct check digits."""
    days = rng.integers(0, 365 * 50, n)  # born 1960 … 2009
    birth = np.datetime64("1960-01-01") + days.astype("timedelta64[D]")
    year = birth.astype("datetime64[Y]").astype(int) + 1970
    month = birth.astype("datetime64[M]").astype(int) % 12 + 1
    day = (birth - birth.astype("datetime64[M]")).astype(int) + 1
    ymd = year * 10000 + month * 100 + day
    seq = rng.integers(1, 999, n)
    digits = np.zeros((n, 17), dtype=np.int64)
    digits[:, :6] = [int(c) for c in COUNTY_CODE]
    for i in range(8):
        digits[:, 6 + i] = ymd // 10 ** (7 - i) % 10
    for i in range(3):
        digits[:, 14 + i] = seq // 10 ** (2 - i) % 10
    check = np.array(list(ID_CHECK))[(digits @ ID_WEIGHTS) % 11]
    full = np.concatenate([digits.astype(str), check[:, None]], axis=1)
    return pl.Series(_join_chars(full), dtype=pl.Utf8)


def credit_codes(rng: np.random.Generator, n: int) -> pl.Series:
    """Draw n unified social credit codes of county businesses with correct check characters."""
    idx = np.zeros((n, 18), dtype=np.int64)
    idx[:, 0] = 9  # registered by market regulation
    idx[:, 1] = rng.choice([1, 2], n)  # enterprise or individual business
    idx[:, 2:8] = [int(c) for c in COUNTY_CODE]
    idx[:, 8:17] = rng.integers(0, len(USCC_CHARS), (n, 9))
    idx[:, 17] = (31 - (idx[:, :17] @ USCC_WEIGHTS) % 31) % 31
    return pl.Series(_join_chars(np.array(list(USCC_CHARS))[idx]), dtype=pl.Utf8)


def phones(rng: np.random.Generator, n: int) -> pl.Series:
    """Draw n mobile numbers with common mainland prefixes."""
    prefix = rng.choice(["139", "138", "151", "177", "180", "189", "133", "159"], n)
    tail = rng.integers(0, 10**8, n)
    return pl.Series(np.char.add(prefix, np.char.zfill(tail.astype(str), 8)), dtype=pl.Utf8)


def shop_names(rng: np.random.Generator, n: int, suffix: str | np.ndarray) -> pl.Series:
    """Draw n shop names of the county ending in a kind suffix (网吧, 书店 …)."""
    a = rng.choice(SHOP_WORDS, n)
    b = rng.choice(SHOP_WORDS, n)
    return pl.Series(np.char.add(np.char.add("西吉县", np.char.add(a, b)), suffix), dtype=pl.Utf8)


def break_check(code: str) -> str:
    """Return the ID with a wrong check character, as a clerk's typo would leave it."""
    if code[:17].isdigit():
        alphabet, right = ID_CHECK, valid_resident_id(code[:17])[-1]
    else:
        alphabet, right = USCC_CHARS, valid_uscc(code[:17])[-1]
    return code[:17] + alphabet[(alphabet.index(right) + 3) % len(alphabet)]
