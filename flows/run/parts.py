"""A key repeated across the parts of a sheet loaded in parts: found as if the sheet were checked whole.

A sheet of many rows is parsed, checked and loaded in parts (`flows.extract.parse.part_bounds`,
issue 16). The suites check a register's key for uniqueness within one unit
(`expect_compound_columns_to_be_unique` over the unit and the key): on a part they see that
part only. `duplicates_across_parts` makes up the rest, part by part in order, from the keys of
the parts checked before (`Slicing.keys`): a row whose key an earlier part holds is a
duplicate of that key's first row there, with the suite's own rule, severity and message, and
the suite's tally counts every row of a repeated key once, as it would on the whole sheet.
"""

from __future__ import annotations

import polars as pl

from flows.contract.problems import PROBLEM_SCHEMA, problem_frame
from flows.extract.plan import Prepared
from flows.validate.sheet_suites import EXCEL_MIDNIGHT, UNIQUE, ExpectationTally, message_expr
from flows.validate.suites import UNIT, load_suite

FIRST, SEEN, COUNTED = "_first_row", "_n", "_counted"


def key_expectation(code: str, key: str) -> tuple[int, dict] | None:
    """The ledger suite's uniqueness expectation over (unit, key): its index and configuration."""
    for i, expectation in enumerate(load_suite(code)["expectations"]):
        if expectation["type"] == UNIQUE and expectation["kwargs"].get("column_list") == [UNIT, key]:
            return i, expectation
    return None


def duplicates_across_parts(prep: Prepared, problems: pl.DataFrame,
                            suites: dict[str, list[ExpectationTally]]) -> pl.DataFrame:
    """Return a part's problems with the duplicates of keys held by earlier parts of its sheet.

    Only when the suite checked this part (its ledger is in `suites`): a run whose checks are
    others checks no key, in parts or whole.
    """
    ledger, slicing = prep.unit.ledger, prep.part.slicing
    key = ledger.key
    if key is None or ledger.code not in suites or key not in prep.parsed.rows.columns:
        return problems
    found = key_expectation(ledger.code, key)
    if found is None:
        return problems
    index, expectation = found
    meta = expectation["meta"]
    rows = prep.parsed.rows.select(pl.col("_row").cast(pl.Int32), pl.col(key)).filter(pl.col(key).is_not_null())
    here = rows.group_by(key, maintain_order=True).agg(pl.col("_row").min().alias("_here"), pl.len().alias("_m"))
    seen = slicing.keys
    if seen is None:
        seen = pl.DataFrame(schema={key: here.schema[key], FIRST: pl.Int32, SEEN: pl.UInt32, COUNTED: pl.UInt32})
    both = here.join(seen, on=key, how="left")
    # What the suite's tally counted of this part (the rows of a key repeated within it) and
    # what it counts of the whole sheet so far (every row of a key seen more than once).
    counted_here = pl.when(pl.col("_m") > 1).then(pl.col("_m")).otherwise(0)
    total = pl.col("_m") + pl.col(SEEN).fill_null(0)
    both = both.with_columns(pl.when(total > 1).then(total).otherwise(0).cast(pl.UInt32).alias("_truth"))
    correction = both.select(
        (pl.col("_truth").cast(pl.Int64) - pl.col(COUNTED).fill_null(0).cast(pl.Int64)
         - counted_here.cast(pl.Int64)).sum()
    ).item()
    if correction:
        suites[ledger.code][index].unexpected_count += int(correction)
    updated = both.select(
        pl.col(key), pl.coalesce(FIRST, "_here").cast(pl.Int32).alias(FIRST),
        total.cast(pl.UInt32).alias(SEEN), pl.col("_truth").alias(COUNTED),
    )
    slicing.keys = pl.concat([seen.join(updated.select(key), on=key, how="anti"), updated], how="vertical")
    again = rows.join(seen.select(key, FIRST), on=key, how="inner")
    if again.height == 0:
        return problems
    # The suite named a first row within this part for these keys: theirs is in an earlier part.
    rule, column = meta["rule"], meta["column"]
    told = again.select(pl.col("_row"), pl.lit(column).alias("column"), pl.lit(rule).alias("rule"))
    problems = problems.join(told, on=["_row", "column", "rule"], how="anti", maintain_order="left")
    header = prep.parsed.headers.get(column, ledger.column(column).header)
    raw = prep.parsed.raw.select(pl.col("_row").cast(pl.Int32),
                                 pl.col(column).cast(pl.Utf8).str.replace(EXCEL_MIDNIGHT, "$1").alias("raw_value"))
    records = (
        again.sort("_row").join(raw, on="_row", how="left")
        .with_columns(pl.lit(column).alias("column"), pl.lit(header).alias("header"),
                      pl.lit(header).alias("_header"), pl.lit(rule).alias("rule"))
        .with_columns(message_expr(meta["message"]).alias("reason"))
    )  # fmt: skip
    added = problem_frame(records, severity=meta["severity"]).select(list(PROBLEM_SCHEMA))
    return pl.concat([problems.select(list(PROBLEM_SCHEMA)), added], how="vertical")
