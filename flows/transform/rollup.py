"""Figures of a city or a province from its counties': sums add up, rates are recomputed.

Each county's figures are built on their own (`flows.run.lake_run.build_from_lake(county=…)`);
its `indicator_totals` keep, per indicator and year, the rows counted, the rows in the
numerator and the amounts. A city's figure adds up its counties' counts and amounts and divides
the summed numerator by the summed denominator: the rate of all its rows, never the average
of its counties' rates. The SQL is `sql/reports/org_rollup.sql`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from flows import resources
from flows.contract import org_units

ROLLUP_SQL = resources.SQL_DIR / "reports" / "org_rollup.sql"

# One county's figures before division, from its own build.
COUNTY_TOTALS = """
SELECT t.year, t.code, any_value(c.aggregation) AS aggregation,
       cast(sum(t.row_count) AS BIGINT) AS row_count,
       cast(sum(t.numerator_count) AS BIGINT) AS numerator_count,
       sum(t.amount_sum) AS amount_sum,
       count(DISTINCT t.distinct_value) AS distinct_count
FROM indicator_totals AS t JOIN seed_indicator_catalog AS c ON c.code = t.code
GROUP BY t.year, t.code
"""


def county_totals(builds: dict[str, Path]) -> pl.DataFrame:
    """Each county's totals, from its built DuckDB file (county code -> file), as one frame."""
    frames = []
    for county, path in builds.items():
        with duckdb.connect(str(path), read_only=True) as con:
            frame = con.execute(COUNTY_TOTALS).pl()
        frames.append(frame.with_columns(pl.lit(county).alias("county")))
    return pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame()


def rollup(builds: dict[str, Path], org: str) -> tuple[pl.DataFrame, list[str]]:
    """Return the figures of `org` and of every unit between it and its counties, and the late counties.

    `builds` maps county codes to their built files. The frame has one row per (org, year,
    code): value (yuan, or percent with one decimal), row_count, numerator_count and how many
    counties had data. The list names the counties under `org` that have no build yet (late):
    their figures are missing from the totals, never taken as zero in silence.
    Raises UnknownOrgUnit for an org no contract unit has.
    """
    unit = org_units.resolve(org)
    counties = [c.code for c in org_units.counties_under(unit.code)]
    late = [c for c in counties if c not in builds]
    present = {c: builds[c] for c in counties if c in builds}
    members = []  # (org, county): the county and every unit above it, up to `org`
    for county in present:
        chain = [a.code for a in org_units.ancestors(county)]
        members += [(code, county) for code in chain[: chain.index(unit.code) + 1]]
    con = duckdb.connect()
    try:
        con.register("county_totals", county_totals(present).to_arrow() if present else
                     pl.DataFrame(schema={"year": pl.Int64, "code": pl.Utf8, "aggregation": pl.Utf8,
                                          "row_count": pl.Int64, "numerator_count": pl.Int64,
                                          "amount_sum": pl.Float64, "distinct_count": pl.Int64,
                                          "county": pl.Utf8}).to_arrow())
        con.register("org_members", pl.DataFrame(members, schema={"org": pl.Utf8, "county": pl.Utf8},
                                                 orient="row").to_arrow())
        figures = con.execute(ROLLUP_SQL.read_text(encoding="utf-8")).pl()
    finally:
        con.close()
    return figures, late
