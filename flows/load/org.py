"""The county each loaded row belongs to: its `_county` column, set at load from the file's scope."""

from __future__ import annotations

import polars as pl

from flows.contract import org_units


def with_county(rows: pl.DataFrame, versions: dict[int, dict]) -> pl.DataFrame:
    """Add `_county` (GB/T 2260 code, text) to a ledger's queued rows, by their `_version_id`.

    `versions` maps each queued version id to its `file_versions` record; the county is that
    of the record's scope (`org_units.county_of_scope`: the bureau's own unit for a county's
    inbox, the county folder for a city's). A scope that names no county leaves the column
    NULL (unknown), never a guessed county.
    """
    own = org_units.own()
    counties = {vid: org_units.county_of_scope(record["scope"], own) for vid, record in versions.items()}
    return rows.with_columns(
        pl.col("_version_id").replace_strict(counties, default=None, return_dtype=pl.Utf8).alias("_county"))
