"""Which ledger-months of a year were handed in on time, late, or not at all: the one definition.

`tally completeness`, the report's completeness grid and the report's "has last year data"
test all read this module, so they cannot disagree. The submissions themselves come from the
load history by one query, `sql/reports/ledger_submissions.sql`.

A month is submitted when some version of the ledger for that period was accepted (loaded,
later superseded, or the same content again); a zero report (零报告) counts, a rejected file
does not. It is late when its first accepted version was handed in (the file's modification
time, Beijing time) after the deadline day of the following month — the 5th unless the
settings say otherwise (`[completeness] deadline_day` in tally.toml, or `--deadline-day`). A
month with nothing accepted is missing once its deadline has passed, and not yet due until
then. The staff roster is a snapshot and has no months: its line gives the latest snapshot date.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from flows.contract.ledgers import LEDGERS
from flows.load.current import current_relation
from flows.resources import SQL_DIR

DEADLINE_DAY = 5
SUBMISSIONS_SQL = SQL_DIR / "reports" / "ledger_submissions.sql"
STATUS_ZH = {"submitted": "已按时报送", "late": "逾期报送", "missing": "未报送",
             "not_due": "未到报送期限", "snapshot": "名录快照"}  # fmt: skip
# The same statuses in the few characters a month's cell of a grid has room for.
MARK_ZH = {"submitted": "已报", "late": "逾期", "missing": "未报", "not_due": "未到期"}
ZERO_MARK = "零报告"  # an on-time zero report; a late one is marked late
ACCEPTED_STATUSES = ("submitted", "late")
COMPLETENESS_COLUMNS = (
    "scope", "ledger", "ledger_zh", "unit_zh", "month", "status", "status_zh", "mark",
    "zero_report", "submitted_on", "deadline", "latest_snapshot", "rejected_files",
)  # fmt: skip


def deadline_of(year: int, month: int, day: int = DEADLINE_DAY) -> date:
    """Return the deadline for a month's ledgers: that day of the following month."""
    y, m = (year + 1, 1) if month == 12 else (year, month + 1)
    return date(y, m, day)


def deadline_day_of(settings, flag: int | None = None) -> int:
    """Return the deadline day: the flag when given, else tally.toml's, else the 5th."""
    if flag:
        return flag
    return int(settings.extra.get("completeness", {}).get("deadline_day", DEADLINE_DAY))


def submissions(con, year: int) -> pl.DataFrame:
    """Return, per scope, ledger and period of the year, when it was first handed in (see the SQL)."""
    sql = SUBMISSIONS_SQL.read_text(encoding="utf-8").replace("from current_versions", f"from {current_relation()}")
    return con.execute(sql, {"year": year}).pl()


def completeness(con, year: int, *, deadline_day: int = DEADLINE_DAY,
                 today: date | None = None) -> pl.DataFrame:
    """Return one line per ledger and month (the roster: one line) with its submission status."""
    today = today or date.today()
    found = submissions(con, year)
    seen = found.filter(pl.col("accepted"))
    scopes = sorted(set(found["scope"].to_list())) or [""]
    rejected = found.group_by("scope", "ledger", "period").agg(pl.col("rejected_files").sum())
    monthly = [x for x in LEDGERS.values() if x.kind != "snapshot"]
    grid = pl.DataFrame(
        [(s, x.code, x.name_zh, x.unit_zh, m, f"{year}-{m:02d}", deadline_of(year, m, deadline_day))
         for s in scopes for x in monthly for m in range(1, 13)],
        schema={"scope": pl.Utf8, "ledger": pl.Utf8, "ledger_zh": pl.Utf8, "unit_zh": pl.Utf8,
                "month": pl.Int32, "period": pl.Utf8, "deadline": pl.Date},
        orient="row",
    )  # fmt: skip
    months = (
        grid.join(seen.select("scope", "ledger", "period", "submitted_on", "zero_report"),
                  on=["scope", "ledger", "period"], how="left")
        .join(rejected, on=["scope", "ledger", "period"], how="left")
        .with_columns(
            pl.when(pl.col("submitted_on").is_null() & (pl.col("deadline") >= today))
            .then(pl.lit("not_due"))
            .when(pl.col("submitted_on").is_null())
            .then(pl.lit("missing"))
            .when(pl.col("submitted_on") > pl.col("deadline"))
            .then(pl.lit("late"))
            .otherwise(pl.lit("submitted"))
            .alias("status"),
            pl.lit(None, pl.Date).alias("latest_snapshot"),
        )
        .with_columns(
            pl.when((pl.col("status") == "submitted") & pl.col("zero_report").fill_null(False))
            .then(pl.lit(ZERO_MARK))
            .otherwise(pl.col("status").replace_strict(MARK_ZH, default=None))
            .alias("mark"),
        )
    )
    roster = [x for x in LEDGERS.values() if x.kind == "snapshot"]
    snaps = (
        seen.filter(pl.col("ledger").is_in([x.code for x in roster]))
        .group_by("scope", "ledger")
        .agg(pl.col("period_start").max().alias("latest_snapshot"),
             pl.col("rejected_files").sum())
    )
    snapshot_rows = pl.DataFrame(
        [(s, x.code, x.name_zh, x.unit_zh) for s in scopes for x in roster],
        schema={"scope": pl.Utf8, "ledger": pl.Utf8, "ledger_zh": pl.Utf8, "unit_zh": pl.Utf8},
        orient="row",
    ).join(snaps, on=["scope", "ledger"], how="left").with_columns(
        pl.when(pl.col("latest_snapshot").is_null()).then(pl.lit("missing"))
        .otherwise(pl.lit("snapshot")).alias("status"),
        pl.lit("").alias("mark"),
    )  # fmt: skip
    out = pl.concat([months, snapshot_rows], how="diagonal_relaxed")
    return out.with_columns(
        pl.col("status").replace_strict(STATUS_ZH).alias("status_zh"),
        pl.col("rejected_files").fill_null(0),
    ).select(COMPLETENESS_COLUMNS)


def ledgers_submitted(con, year: int) -> set[str]:
    """Return the ledgers for which something was submitted for the year (a month or a snapshot).

    This is what "the year has data" means for a figure: its ledgers were handed in for that
    year, not merely that some row of another year's file carries a date in it.
    """
    found = submissions(con, year).filter(pl.col("accepted"))
    return set(found["ledger"].to_list())
