"""The report's rows: each figure of a year beside last year's, in the report's section order.

A `ReportData` holds everything a rendering needs (tables, as-of date, completeness, monthly
series), read once from the warehouse, so that every format says the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import polars as pl

from flows.contract import spec
from flows.contract.catalog import load_catalog
from flows.errors import TallyError
from flows.report.completeness import completeness
from flows.report.reported import NO_DATA, codes_with_data, year_reported
from flows.transform.indicators import indicator_table, value_text

# The report's chapters, in order, with tally's own short headings: the contract's sections.toml.
SECTIONS = spec.active().sections


def section_titles() -> dict[str, str]:
    """Return the section titles of the contract in use (section code -> title, in report order)."""
    return spec.active().sections


ROW_COLUMNS = (
    "section", "section_title", "code", "name_zh", "name_en", "unit", "printed", "value",
    "value_text", "last_value", "last_value_text", "last_printed", "change", "change_text",
    "has_data", "last_has_data",
)  # fmt: skip
REQUIRED_RELATIONS = ("indicators", "indicator_series_monthly", "file_versions")


@dataclass(frozen=True)
class AsOf:
    """How fresh the year's data is: its latest dated row and the latest file seen."""

    latest_row_date: date | None
    latest_file: str | None
    latest_file_seen_at: datetime | None


@dataclass(frozen=True)
class ReportData:
    """One year's report content, ready to render in any format."""

    year: int
    rows: pl.DataFrame  # ROW_COLUMNS, one row per indicator, in report order
    as_of: AsOf
    completeness: pl.DataFrame  # one row per ledger: month flags and a summary
    monthly: pl.DataFrame  # year, month, code, name_zh, value, unit: this year and last
    bureau: str = ""  # the bureau the report is of (tally.toml `bureau`)

    def sections(self) -> list[tuple[str, str, pl.DataFrame]]:
        """Return (section, title, rows) for each section that has rows, in report order."""
        out = []
        for section, title in section_titles().items():
            part = self.rows.filter(pl.col("section") == section)
            if part.height:
                out.append((section, title, part))
        return out


def change_text(value: float | None, last: float | None, unit: str) -> str:
    """Write the change from last year: '+17', '-3', '+5.0个百分点'; empty when either is missing."""
    if value is None or last is None:
        return ""
    diff = value - last
    if diff == 0:
        return "0"
    if unit == "%":
        return f"{diff:+.1f}个百分点"
    text = value_text(abs(diff), unit)
    return ("+" if diff >= 0 else "-") + text


def report_rows(con, year: int) -> pl.DataFrame:
    """Return each indicator of a year with its figure, raw value, last year's value and the change.

    A figure whose ledgers were not submitted for a year (`reported.codes_with_data`) has no
    value that year: its cells say `—`, and there is no change against it.
    """
    this = indicator_table(con, year)
    if this.height == 0 or not year_reported(con, year):
        raise TallyError(f"仓库中没有 {year} 年报送的台账（先运行 tally run，或检查年份）")
    with_data, last_with_data = codes_with_data(con, year), codes_with_data(con, year - 1)
    last = indicator_table(con, year - 1).select("code", last_value="value", last_printed="printed")
    rows = this.join(last, on="code", how="left", maintain_order="left").with_columns(
        has_data=pl.col("code").is_in(list(with_data)),
        last_has_data=pl.col("code").is_in(list(last_with_data)),
    )
    # Values of a year without data are no figures: dropped here, so nothing can print them.
    rows = rows.with_columns(
        value=pl.when("has_data").then("value"),
        printed=pl.when("has_data").then("printed").otherwise(pl.lit(NO_DATA)),
        last_value=pl.when("last_has_data").then("last_value"),
        last_printed=pl.when("last_has_data").then("last_printed"),
    )
    units = rows["unit"].to_list()
    values, lasts = rows["value"].to_list(), rows["last_value"].to_list()
    has, had = rows["has_data"].to_list(), rows["last_has_data"].to_list()
    return rows.with_columns(
        section_title=pl.col("section").replace_strict(section_titles(), default=pl.col("section")),
        value_text=pl.Series(
            [value_text(v, u) if h else NO_DATA for v, u, h in zip(values, units, has, strict=True)]
        ),
        last_value_text=pl.Series(
            [value_text(v, u) if h else NO_DATA for v, u, h in zip(lasts, units, had, strict=True)]
        ),
        change=pl.col("value") - pl.col("last_value"),
        change_text=pl.Series(
            [change_text(v, p, u) if h and g else NO_DATA
             for v, p, u, h, g in zip(values, lasts, units, has, had, strict=True)],
            dtype=pl.String,
        ),
    ).select(ROW_COLUMNS)


def as_of(con, year: int) -> AsOf:
    """Return the year's latest dated ledger row and the latest file version of the year seen."""
    row_date = con.execute(
        "SELECT max(dated_on) FROM indicator_facts WHERE year = ?", [year]
    ).fetchone()[0]
    latest = con.execute(
        """
        SELECT path, seen_at FROM file_versions
        WHERE status <> 'rejected' AND year(period_start) = ?
        ORDER BY seen_at DESC, version_id DESC LIMIT 1
        """,
        [year],
    ).fetchone()
    path, seen = latest if latest else (None, None)
    return AsOf(row_date, path, seen)


def monthly_series(con, years: list[int]) -> pl.DataFrame:
    """Return the monthly series of the given years (0 for a month without rows)."""
    placeholders = ", ".join("?" for _ in years)
    return con.execute(
        f"""
        SELECT year, month, code, name_zh, CAST(value AS DOUBLE) AS value, unit
        FROM indicator_series_monthly WHERE year IN ({placeholders})
        ORDER BY year, code, month
        """,
        years,
    ).pl()


def check_built(con) -> None:
    """Raise a clear error when the warehouse has not been built (no indicators yet)."""
    names = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    missing = [n for n in REQUIRED_RELATIONS if n not in names]
    if missing:
        raise TallyError(
            f"仓库中还没有指标表（缺少 {', '.join(missing)}）：先运行 tally run 生成指标"
        )


def load_report(con, year: int, bureau: str = "", *, deadline_day: int | None = None,
                today: date | None = None) -> ReportData:
    """Read everything one year's report shows from a built warehouse.

    The completeness grid uses `deadline_day` and `today` as `tally completeness` does.
    """
    check_built(con)
    load_catalog()  # fail early on a broken catalog, before any file is written
    rows = report_rows(con, year)
    # Last year's monthly series only for the figures last year has data for (see `reported`).
    compared = rows.filter(pl.col("last_has_data"))["code"].to_list()
    monthly = monthly_series(con, [year - 1, year]).filter(
        (pl.col("year") == year) | pl.col("code").is_in(compared)
    )
    return ReportData(
        year=year,
        rows=rows,
        as_of=as_of(con, year),
        completeness=completeness(con, year, deadline_day=deadline_day, today=today),
        monthly=monthly,
        bureau=bureau,
    )
