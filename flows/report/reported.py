"""Which figures a year was reported for: their ledgers were submitted for that year.

A figure "has data" for a year when every ledger it is computed from was handed in for that
year — some month of it accepted (a zero report counts), or for the staff roster a snapshot
dated in it — as `flows.report.submissions` says from the load history. A row of another year's file
that happens to carry a date in that year (a 2023-12-30 inspection in a 2024 file) does not
make the year reported: it is counted in its own year's figure by the SQL models, but no
figure of that year is shown as if it were reported, and no year-over-year change or chart
is drawn against it. A year with some months missing still has data: the completeness grid
and its summary line say how complete it is.
"""

from __future__ import annotations

from flows.contract.catalog import load_catalog
from flows.report.submissions import ledgers_submitted

NO_DATA = "—"  # what a table shows for a year without data
NO_DATA_ZH = "无上年数据"
NOT_REPORTED_ZH = "未报送"


def ledgers_of(code: str) -> tuple[str, ...]:
    """Return the ledgers an indicator is computed from (its `ledgers` in the contract's indicators.toml)."""
    return load_catalog()[code].ledgers


def codes_with_data(con, year: int) -> set[str]:
    """Return the indicator codes whose ledgers were all submitted for the year."""
    submitted = ledgers_submitted(con, year)
    return {code for code in load_catalog() if set(ledgers_of(code)) <= submitted}


def year_reported(con, year: int) -> bool:
    """Tell whether any ledger at all was submitted for the year."""
    return bool(ledgers_submitted(con, year))
