"""Which ledger-months of a year were submitted, computed from the load history (`file_versions`).

A month counts as submitted when a version of the ledger for that period was loaded (even if
later superseded) or was a zero report (零报告: submitted, nothing happened). A rejected file
is not a submission. The staff roster is a snapshot: its row lists the snapshot dates instead.
"""

from __future__ import annotations

import polars as pl

from flows.contract.ledgers import LEDGERS

MONTHS = tuple(range(1, 13))
SUBMITTED = "已报"
ZERO_REPORT = "零报告"
MISSING = ""
COMPLETENESS_COLUMNS = (
    "ledger", "ledger_zh", "unit_zh", "kind", *(f"m{m:02d}" for m in MONTHS), "submitted",
    "expected", "missing_months", "rejected_files", "note",
)  # fmt: skip


def _ledger_frame() -> pl.DataFrame:
    items = list(LEDGERS.values())
    return pl.DataFrame({
        "ledger": [x.code for x in items], "ledger_zh": [x.name_zh for x in items],
        "unit_zh": [x.unit_zh for x in items], "kind": [x.kind for x in items],
        "order": list(range(len(items))),
    })  # fmt: skip


def completeness(con, year: int) -> pl.DataFrame:
    """Return one row per ledger with, for each month of the year, 已报, 零报告 or blank."""
    versions = con.execute(
        """
        SELECT ledger, period, period_start, status, coalesce(zero_report, false) AS zero_report
        FROM file_versions
        WHERE ledger IS NOT NULL AND year(period_start) = ?
        """,
        [year],
    ).pl()
    accepted = versions.filter(pl.col("status") != "rejected")
    monthly = (
        accepted.filter(pl.col("period").str.len_chars() == 7)
        .with_columns(month=pl.col("period_start").dt.month())
        .group_by("ledger", "month")
        .agg(zero=pl.col("zero_report").all())
        .with_columns(
            mark=pl.when(pl.col("zero")).then(pl.lit(ZERO_REPORT)).otherwise(pl.lit(SUBMITTED)),
            column=pl.format("m{}", pl.col("month").cast(pl.String).str.zfill(2)),
        )
    )
    grid = (
        _ledger_frame()
        .join(pl.DataFrame({"month": list(MONTHS)}, schema={"month": pl.Int8}), how="cross")
        .with_columns(column=pl.format("m{}", pl.col("month").cast(pl.String).str.zfill(2)))
        .join(monthly.select("ledger", "column", "mark"), on=["ledger", "column"], how="left")
        .with_columns(pl.col("mark").fill_null(MISSING))
    )
    wide = grid.pivot(on="column", index="ledger", values="mark", aggregate_function="first")
    missing = (
        grid.filter(pl.col("mark") == MISSING)
        .group_by("ledger")
        .agg(pl.col("month").sort().cast(pl.String).str.join("、").alias("missing_months"))
    )
    snapshots = (
        accepted.filter(pl.col("period").str.len_chars() != 7)
        .group_by("ledger")
        .agg(pl.col("period").unique().sort().str.join("、").alias("snapshots"))
    )
    rejected = (
        versions.filter(pl.col("status") == "rejected")
        .group_by("ledger")
        .agg(pl.len().cast(pl.Int64).alias("rejected_files"))
    )
    month_cols = [f"m{m:02d}" for m in MONTHS]
    is_snapshot = pl.col("kind") == "snapshot"
    return (
        _ledger_frame()
        .join(wide, on="ledger", how="left")
        .join(missing, on="ledger", how="left")
        .join(snapshots, on="ledger", how="left")
        .join(rejected, on="ledger", how="left")
        .with_columns(
            submitted=pl.when(is_snapshot)
            .then(pl.col("snapshots").is_not_null().cast(pl.Int64))
            .otherwise(
                pl.sum_horizontal([(pl.col(c) != MISSING).cast(pl.Int64) for c in month_cols])
            ),
            expected=pl.when(is_snapshot).then(1).otherwise(len(MONTHS)),
            rejected_files=pl.col("rejected_files").fill_null(0),
            missing_months=pl.when(is_snapshot)
            .then(pl.lit(""))
            .otherwise(pl.col("missing_months").fill_null("")),
            note=pl.when(is_snapshot)
            .then(pl.format("名录快照：{}", pl.col("snapshots").fill_null("未报送")))
            .otherwise(pl.lit("")),
        )
        .with_columns(
            [
                pl.when(is_snapshot).then(pl.lit("")).otherwise(pl.col(c)).alias(c)
                for c in month_cols
            ]
        )
        .sort("order")
        .select(COMPLETENESS_COLUMNS)
    )


def completeness_summary(frame: pl.DataFrame) -> str:
    """Say in one line how many ledger-months were submitted out of those expected."""
    return f"已报送 {int(frame['submitted'].sum())} / {int(frame['expected'].sum())} 个台账期次"
