"""The report's completeness grid: one row per ledger, a cell per month, from `flows.report.submissions`.

The statuses are `flows.report.submissions.completeness`, the very definition `tally completeness`
prints: a cell says 已报 (on time), 零报告 (an on-time zero report), 逾期 (late), 未报 (missing
past its deadline) or 未到期 (not yet due). The staff roster is a snapshot: its row lists the
snapshot dates instead. With more than one county (scope), each county has its own rows.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from flows.contract.ledgers import LEDGERS
from flows.report.submissions import ACCEPTED_STATUSES, MARK_ZH, ZERO_MARK
from flows.report.submissions import completeness as month_statuses

MONTHS = tuple(range(1, 13))
SUBMITTED = MARK_ZH["on_time"]
UNTRACKED = MARK_ZH["before_tracking"]
# What the grid's note says of a ledger with months handed in before tally was watching.
UNTRACKED_NOTE = f"{UNTRACKED}：开始跟踪前收到，是否按时不详"
LATE = MARK_ZH["late"]
MISSING = MARK_ZH["missing"]
NOT_DUE = MARK_ZH["not_due"]
ZERO_REPORT = ZERO_MARK
COMPLETENESS_COLUMNS = (
    "scope", "ledger", "ledger_zh", "unit_zh", "kind", *(f"m{m:02d}" for m in MONTHS),
    "submitted", "expected", "late_months", "missing_months", "not_due", "rejected_files", "note",
)  # fmt: skip


def _ledger_frame() -> pl.DataFrame:
    items = list(LEDGERS.values())
    return pl.DataFrame({
        "ledger": [x.code for x in items], "kind": [x.kind for x in items],
        "order": list(range(len(items))),
    })  # fmt: skip


def _months_of(status: str) -> pl.Expr:
    return (
        pl.col("month").filter(pl.col("status") == status).sort().cast(pl.String).str.join("、")
    )


def completeness(con, year: int, *, deadline_day: int | None = None,
                 today: date | None = None) -> pl.DataFrame:
    """Return one row per (county,) ledger with each month's mark, as `tally completeness` says."""
    long = month_statuses(con, year, deadline_day=deadline_day, today=today)
    scoped = long["scope"].n_unique() > 1
    monthly = long.filter(pl.col("month").is_not_null())
    marks = monthly.with_columns(
        column=pl.format("m{}", pl.col("month").cast(pl.String).str.zfill(2))
    ).pivot(on="column", index=["scope", "ledger"], values="mark", aggregate_function="first")
    counts = monthly.group_by("scope", "ledger").agg(
        submitted=pl.col("status").is_in(ACCEPTED_STATUSES).sum().cast(pl.Int64),
        expected=pl.len().cast(pl.Int64),
        late_months=_months_of("late"),
        missing_months=_months_of("missing"),
        not_due=(pl.col("status") == "not_due").sum().cast(pl.Int64),
        rejected_files=pl.col("rejected_files").sum().cast(pl.Int64),
        note=pl.when((pl.col("status") == "before_tracking").any())
        .then(pl.lit(UNTRACKED_NOTE)).otherwise(pl.lit("")),
    )
    snapshots = long.filter(pl.col("month").is_null()).select(
        "scope", "ledger",
        submitted=pl.col("latest_snapshot").is_not_null().cast(pl.Int64),
        expected=pl.lit(1, pl.Int64),
        late_months=pl.lit(""), missing_months=pl.lit(""), not_due=pl.lit(0, pl.Int64),
        rejected_files=pl.col("rejected_files").cast(pl.Int64),
        note=pl.format("名录快照：{}", pl.col("latest_snapshot").cast(pl.String).fill_null("未报送")),
    )  # fmt: skip
    names = long.select("scope", "ledger", "ledger_zh", "unit_zh").unique(["scope", "ledger"])
    rows = pl.concat([counts, snapshots], how="diagonal_relaxed")
    month_cols = [f"m{m:02d}" for m in MONTHS]
    return (
        rows.join(names, on=["scope", "ledger"], how="left")
        .join(marks, on=["scope", "ledger"], how="left")
        .join(_ledger_frame(), on="ledger", how="left")
        .with_columns(
            [pl.col(c).fill_null("") if c in marks.columns else pl.lit("").alias(c)
             for c in month_cols]
        )
        .with_columns(
            ledger_zh=pl.format("{}·{}", "scope", "ledger_zh") if scoped else pl.col("ledger_zh")
        )
        .sort("scope", "order")
        .select(COMPLETENESS_COLUMNS)
    )


def completeness_summary(frame: pl.DataFrame) -> str:
    """Say in one line how many ledger-months were submitted, late, missing and not yet due."""
    monthly = frame.filter(pl.col("kind") != "snapshot")
    late = sum(len(m.split("、")) for m in monthly["late_months"].to_list() if m)
    missing = sum(len(m.split("、")) for m in monthly["missing_months"].to_list() if m)
    return (
        f"已报送 {int(frame['submitted'].sum())} / {int(frame['expected'].sum())} 个台账期次"
        f"（其中逾期 {late} 个），未报送 {missing} 个，未到报送期限 {int(monthly['not_due'].sum())} 个"
    )
