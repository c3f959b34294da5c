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

import polars as pl

from flows.contract.catalog import load_catalog
from flows.errors import TallyError
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


def reported_figures(table: pl.DataFrame, con, year: int) -> pl.DataFrame:
    """Keep only the figures of a year whose ledgers were submitted for it (`report.reported`).

    A year nothing was submitted for is refused with the reason: rows dated in it that came in
    other years' files make no reported figure. A figure whose ledgers were not submitted keeps
    its line with no value and `—` as its printed form, and `reported` false.
    """
    if not year_reported(con, year):
        stray = "" if table.is_empty() else "；仓库中日期在该年的记录来自其他年度报送的文件，不构成该年度的指标"
        raise TallyError(f"{year} 年没有报送任何台账（载入记录中没有该年度的文件）{stray}"
                         f" · nothing was submitted for {year}")  # fmt: skip
    with_data = list(codes_with_data(con, year))
    return table.with_columns(
        value=pl.when(pl.col("code").is_in(with_data)).then("value"),
        printed=pl.when(pl.col("code").is_in(with_data)).then("printed").otherwise(pl.lit(NO_DATA)),
        reported=pl.col("code").is_in(with_data),
    )
