"""Working days of the official calendar (法定节假日 and make-up working days)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import chinese_calendar
import numpy as np


def is_workday(day: dt.date) -> bool:
    """Say whether a day is a working day; outside the calendar's years, Monday to Friday."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def nth_workday_after(day: dt.date, n: int) -> dt.date:
    """Return the n-th working day after a day, the day itself not counted."""
    current = day
    while n > 0:
        current += dt.timedelta(days=1)
        n -= is_workday(current)
    return current


@lru_cache(maxsize=8)
def _table(year: int) -> tuple[np.ndarray, np.ndarray]:
    first = dt.date(year - 1, 1, 1)
    days = np.arange(np.datetime64(first), np.datetime64(dt.date(year + 2, 12, 31)))
    work = np.array([is_workday(first + dt.timedelta(days=i)) for i in range(len(days))])
    return days, np.cumsum(work)


def nth_workdays_after(days: np.ndarray, n: np.ndarray, year: int) -> np.ndarray:
    """Return, for each day of year ± 1, the n-th working day after it (vectorised)."""
    table, cum = _table(year)
    idx = (days.astype("datetime64[D]") - table[0]).astype(int)
    return table[np.searchsorted(cum, cum[idx] + n, side="left")]
