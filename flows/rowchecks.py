"""Checks across the rows of one sheet that the loader itself must make (templates §6)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from .problems import PROBLEM_SCHEMA, problem_frame

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .ingest import Prepared, UnitContext
    from .parse import ParsedSheet


def duplicate_keys(prepared: Sequence[Prepared]) -> list[pl.DataFrame]:
    """A register's key seen twice in one file: every later occurrence is quarantined."""
    return [duplicates_in(p.context, p.parsed) for p in prepared]


def duplicates_in(context: UnitContext, parsed: ParsedSheet) -> pl.DataFrame:
    key = context.ledger.key
    if key is None or parsed.rows.height == 0:
        return pl.DataFrame(schema=PROBLEM_SCHEMA)
    header = parsed.headers.get(key, context.ledger.column(key).header)
    rows = parsed.rows.select("_row", pl.col(key).alias("k")).join(
        parsed.raw.select("_row", pl.col(key).alias("raw_value")), on="_row"
    )
    dup = (
        rows.filter(pl.col("k").is_not_null())
        .with_columns(pl.col("_row").min().over("k").alias("first"))
        .filter(pl.col("_row") != pl.col("first"))
    )
    if dup.height == 0:
        return pl.DataFrame(schema=PROBLEM_SCHEMA)
    found = dup.select(
        "_row",
        pl.lit(key).alias("column"),
        pl.lit(header).alias("header"),
        "raw_value",
        pl.lit("duplicate_key").alias("rule"),
        pl.format("与第{}行重复（同一文件中{}不能重复）", pl.col("first"), pl.lit(header)).alias("reason"),
    )
    return problem_frame(found, severity="error")


def builtin_checks():
    """The row checks every run makes, before any configured validation."""
    return (duplicate_keys,)
