"""Cells that a spreadsheet program would run as a formula, made inert in every export."""

from __future__ import annotations

import polars as pl

# A spreadsheet program runs a cell that starts like a formula; exports neutralise it.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Prefix text that a spreadsheet would read as a formula with a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Neutralise formula-like text in every string column of a frame."""
    exprs = [
        pl.when(pl.any_horizontal([pl.col(c).str.starts_with(p) for p in FORMULA_START])).then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c)).alias(c)
        for c, t in frame.schema.items() if t == pl.Utf8
    ]  # fmt: skip
    return frame.with_columns(exprs) if exprs else frame
