"""The annual report's figures: build them, read them for a year, and explain any one of them.

A figure is computed by the SQL models (`sql/indicators/`); each one can be traced to the ledger
rows behind it (`indicator_facts`), down to the file, sheet and spreadsheet row.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from flows.contract.catalog import Indicator, load_catalog
from flows.contract.printed_form import agrees, plain
from flows.errors import TallyError
from flows.transform import models

INDICATOR_COLUMNS = ("year", "code", "name_zh", "name_en", "value", "unit", "printed", "section")
INDICATOR_SCHEMA = {"year": pl.Int64, "code": pl.String, "name_zh": pl.String, "name_en": pl.String,
                    "value": pl.Float64, "unit": pl.String, "printed": pl.String, "section": pl.String}  # fmt: skip
FACT_COLUMNS = (
    "dated_on", "amount", "distinct_value", "meets_condition", "ledger", "record_key", "label",
    "path", "sheet", "row", "version_id",
)  # fmt: skip


def build(con) -> list[str]:
    """Build every SQL model (staging, marts, indicators) on con; return their names in order."""
    return models.build(con)


def indicator(code: str) -> Indicator:
    """Return the catalog entry of an indicator code, or say which codes exist."""
    catalog = load_catalog()
    if code not in catalog:
        raise TallyError(f"未知的指标代码：{code}（可用：{', '.join(catalog)}）")
    return catalog[code]


def years(con) -> list[int]:
    """Return the years that have data, oldest first."""
    return [
        row[0] for row in con.execute("SELECT year FROM indicator_years ORDER BY year").fetchall()
    ]


def indicator_table(con, year: int) -> pl.DataFrame:
    """Return one row per indicator for a year, in report order; value is raw (yuan, % for rates)."""
    # Every year's few rows, the year picked here: binding a parameter makes DuckDB's Python
    # client import pandas (0.5 s), on the path of a run that finds nothing new. Fetched as
    # rows, not `.pl()`: that goes through Arrow and imports pyarrow (0.12 CPU s) for 29 rows.
    rows = con.execute(
        """
        SELECT indicators.year, indicators.code, indicators.name_zh, indicators.name_en,
               CAST(indicators.value AS DOUBLE) AS value, indicators.unit, indicators.printed,
               indicators.section
        FROM indicators
        JOIN seed_indicator_catalog AS catalog ON indicators.code = catalog.code
        ORDER BY catalog.sort_order
        """
    ).fetchall()
    frame = pl.DataFrame(rows, schema=INDICATOR_SCHEMA, orient="row")
    return frame.filter(pl.col("year") == year).select(INDICATOR_COLUMNS)


def value_text(value: object, unit: str) -> str:
    """Write a raw value for CSV: empty when undefined, a rate with one decimal, else plain."""
    if value is None:
        return ""
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    if unit == "%":
        return f"{number:.1f}"
    return plain(number)


def export_frame(table: pl.DataFrame) -> pl.DataFrame:
    """Return an indicator table with its value written as text, ready for CSV and Markdown."""
    texts = [
        None if v is None else value_text(v, u)
        for v, u in zip(table["value"], table["unit"], strict=True)
    ]
    return table.with_columns(value=pl.Series("value", texts, dtype=pl.String))


def compare_published(con, year: int = 2024) -> pl.DataFrame:
    """Set each figure of a year beside what the 2024 report printed, and say if they agree."""
    table = indicator_table(con, year)
    catalog = load_catalog()
    published = [catalog[c].published_2024 for c in table["code"]]
    agreement = [
        None if p is None or p.number is None else agrees(p.number, p.qualifier, v)
        for p, v in zip(published, table["value"], strict=True)
    ]
    return table.select("code", "name_zh", "value", "printed").with_columns(
        published=pl.Series([p.printed if p else None for p in published], dtype=pl.String),
        agrees=pl.Series(agreement, dtype=pl.Boolean),
    )


@dataclass(frozen=True)
class Explanation:
    """One figure of one year: its definition, its value and the ledger rows behind it."""

    indicator: Indicator
    year: int
    value: float | None
    printed: str | None
    rows: pl.DataFrame  # one row per ledger row; for a rate, its denominator (meets_condition marks)

    def summary(self) -> dict[str, object]:
        """Return the figure's header: code, names, definition, value and how it is printed."""
        i = self.indicator
        return {
            "code": i.code,
            "year": self.year,
            "name_zh": i.name_zh,
            "name_en": i.name_en,
            "definition_zh": i.definition_zh,
            "definition_en": i.definition_en,
            "aggregation": i.aggregation,
            "model": i.model,
            "value": value_text(self.value, i.unit),
            "unit": i.unit,
            "printed": self.printed or "",
            "rows": self.rows.height,
        }


def explain(con, code: str, year: int) -> Explanation:
    """Return the definition, the value and the exact rows (path, sheet, row) behind a figure."""
    entry = indicator(code)
    found = con.execute(
        "SELECT CAST(value AS DOUBLE), printed FROM indicators WHERE code = ? AND year = ?",
        [code, year],
    ).fetchone()
    value, printed = found if found else (None, None)
    rows = con.execute(
        """
        SELECT dated_on, amount, distinct_value, meets_condition, ledger, record_key, label,
               path, sheet, "row", version_id
        FROM indicator_facts
        WHERE code = ? AND year = ?
        ORDER BY path, sheet, "row", version_id
        """,
        [code, year],
    ).pl()
    return Explanation(entry, year, value, printed, rows.select(FACT_COLUMNS))
