"""The shape of a problem record: one bad or doubtful cell, said so that a clerk can fix it."""

from __future__ import annotations

import polars as pl

PROBLEM_SCHEMA = {
    "_row": pl.Int32,  # the row number as the spreadsheet shows it
    "column": pl.Utf8,  # the warehouse column name
    "header": pl.Utf8,  # the Chinese header as the file writes it
    "raw_value": pl.Utf8,
    "rule": pl.Utf8,
    "severity": pl.Utf8,  # error: the row is quarantined; warning: it loads
    "message": pl.Utf8,  # in Chinese
}


def problem_frame(found: pl.DataFrame, *, severity: str) -> pl.DataFrame:
    """Shape found problems (_row, column, header, raw_value, rule, reason) into PROBLEM_SCHEMA."""
    raw = pl.col("raw_value").str.strip_chars()
    message = (
        pl.when(raw.is_null() | (raw == ""))
        .then(pl.format("第{}行「{}」：{}", pl.col("_row"), pl.col("header"), pl.col("reason")))
        .otherwise(pl.format("第{}行「{}」：{}（原值：「{}」）", pl.col("_row"), pl.col("header"),
                             pl.col("reason"), pl.col("raw_value")))
    )  # fmt: skip
    return found.select(
        pl.col("_row").cast(pl.Int32),
        pl.col("column").cast(pl.Utf8),
        pl.col("header").cast(pl.Utf8),
        pl.col("raw_value").cast(pl.Utf8),
        pl.col("rule").cast(pl.Utf8),
        pl.lit(severity).alias("severity"),
        message.alias("message"),
    )
