"""Figures of a city or a province from its counties': sums add up, rates are recomputed.

One build holds every county's totals before division (`county_totals`, one row per county,
year and indicator) and every org unit's figure made from them (`org_indicators`). This module
runs the same SQL (`sql/indicators/org_indicators.sql`) on county totals given as a frame:
a sign-off's pinned totals, or the current totals of a built file, or both mixed, so that a
city's figure is computed by one rule whatever its counties' totals come from. A city's figure
adds up its counties' counts and amounts and divides the summed numerator by the summed
denominator: the rate of all its rows, never the average of its counties' rates.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from flows import resources
from flows.connections import open_duckdb
from flows.contract import org_units
from flows.contract.catalog import catalog_frame, load_catalog
from flows.transform import org_seeds

ROLLUP_SQL = resources.SQL_DIR / "indicators" / "org_indicators.sql"

# The frame's shape: one row per (county, year, code), before division.
TOTALS_SCHEMA = {"county": pl.Utf8, "year": pl.Int64, "code": pl.Utf8, "aggregation": pl.Utf8,
                 "row_count": pl.Int64, "numerator_count": pl.Int64, "amount_sum": pl.Float64,
                 "distinct_count": pl.Int64}
FIGURE_COLUMNS = ("org", "year", "code", "value", "row_count", "numerator_count", "counties")

# One county's figures before division, from a build that holds its rows.
COUNTY_TOTALS = "SELECT county, year, code, aggregation, row_count, numerator_count, amount_sum, distinct_count " \
                "FROM county_totals"


def county_totals(builds: dict[str, Path]) -> pl.DataFrame:
    """Each county's totals from built DuckDB files (county code -> file), as one frame.

    A file may hold one county's build (`build_from_lake(county=…)`) or many: only the rows of
    the county it is given for are taken.
    """
    frames = []
    for county, path in builds.items():
        with open_duckdb(str(path), read_only=True) as con:
            frames.append(con.execute(COUNTY_TOTALS + " WHERE county = ?", [county]).pl())
    return shaped(pl.concat(frames, how="vertical_relaxed") if frames else None)


def shaped(totals: pl.DataFrame | None) -> pl.DataFrame:
    """Return county totals with the columns and types of TOTALS_SCHEMA (an empty frame for None)."""
    if totals is None or totals.is_empty():
        return pl.DataFrame(schema=TOTALS_SCHEMA)
    return totals.select([pl.col(name).cast(kind) for name, kind in TOTALS_SCHEMA.items()])


def rollup(totals: pl.DataFrame | dict[str, Path], org: str) -> tuple[pl.DataFrame, list[str]]:
    """Return the figures of `org` and of every unit between it and its counties, and the late counties.

    `totals` is a frame of county totals (columns of TOTALS_SCHEMA: county, year, code,
    aggregation, row_count, numerator_count, amount_sum, distinct_count; `county_totals` of a
    build, or signed totals), or a dict of county codes to built files. The figures have one
    row per (org, year, code) for every code of the catalog and every year some county of the
    org has rows: value (yuan, or percent with one decimal; NULL for a rate with no
    denominator), row_count, numerator_count and `counties`, how many counties made it. The
    list names the counties under `org` with no totals at all (late): their figures are
    missing from the sums, never taken as zero in silence.
    Raises UnknownOrgUnit for an org no contract unit has.
    """
    unit = org_units.resolve(org)
    frame = county_totals(totals) if isinstance(totals, dict) else shaped(totals)
    counties = [c.code for c in org_units.counties_under(unit.code)]
    present = set(frame["county"].drop_nulls().to_list())
    late = [c for c in counties if c not in present]
    chains = [[a.code for a in org_units.ancestors(c)] for c in counties]  # each county up to the top
    below = {code for chain in chains for code in chain[: chain.index(unit.code) + 1]}
    members = org_seeds.members_frame().filter(pl.col("org").is_in(sorted(below)))
    con = open_duckdb()
    try:
        con.register("county_totals", frame.to_arrow())
        con.register(org_seeds.SEED_MEMBERS, members.to_arrow())
        con.register("seed_indicator_catalog", catalog_frame(load_catalog()).to_arrow())
        figures = con.execute(ROLLUP_SQL.read_text(encoding="utf-8")).pl()
    finally:
        con.close()
    return figures.select(FIGURE_COLUMNS), late
