"""Which ledger-months of a year were handed in on time, late, or not at all.

A month is submitted when some version of the ledger for that period was accepted (loaded,
later superseded, or the same content again); a zero report (零报告) counts. It is late when
its first accepted version was handed in (the file's modification time, Beijing time) after
the deadline day of the following month — the 5th unless the settings say otherwise. The
staff roster is a snapshot and has no months: its line gives the latest snapshot date.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from flows.contract.ledgers import LEDGERS

DEADLINE_DAY = 5
STATUS_ZH = {"submitted": "已按时报送", "late": "逾期报送", "missing": "未报送",
             "not_due": "未到报送期限", "snapshot": "名录快照"}  # fmt: skip


def deadline_of(year: int, month: int, day: int = DEADLINE_DAY) -> date:
    """Return the deadline for a month's ledgers: that day of the following month."""
    y, m = (year + 1, 1) if month == 12 else (year, month + 1)
    return date(y, m, day)


def submissions(con, year: int) -> pl.DataFrame:
    """Return, per scope, ledger and period of the year, when it was first handed in."""
    return con.execute(
        """
        SELECT scope, ledger, period, CAST(min(modified_at) AS DATE) AS submitted_on,
               bool_or(coalesce(zero_report, false)) AS zero_report
        FROM file_versions
        WHERE ledger IS NOT NULL AND status IN ('loaded', 'superseded', 'unchanged')
          AND year(period_start) = ?
        GROUP BY ALL
        """,
        [year],
    ).pl()


def completeness(con, year: int, *, deadline_day: int = DEADLINE_DAY,
                 today: date | None = None) -> pl.DataFrame:
    """Return one line per ledger and month (the roster: one line) with its submission status."""
    today = today or date.today()
    seen = submissions(con, year)
    scopes = sorted(set(seen["scope"].to_list())) or [""]
    monthly = [x for x in LEDGERS.values() if x.kind != "snapshot"]
    grid = pl.DataFrame(
        [(s, x.code, x.name_zh, x.unit_zh, m, f"{year}-{m:02d}", deadline_of(year, m, deadline_day))
         for s in scopes for x in monthly for m in range(1, 13)],
        schema={"scope": pl.Utf8, "ledger": pl.Utf8, "ledger_zh": pl.Utf8, "unit_zh": pl.Utf8,
                "month": pl.Int32, "period": pl.Utf8, "deadline": pl.Date},
        orient="row",
    )  # fmt: skip
    months = grid.join(seen, on=["scope", "ledger", "period"], how="left").with_columns(
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
    roster = [x for x in LEDGERS.values() if x.kind == "snapshot"]
    snaps = con.execute(
        """
        SELECT scope, ledger, max(period_start) AS latest_snapshot FROM file_versions
        WHERE status IN ('loaded', 'unchanged') AND year(period_start) = ? AND list_contains(?, ledger)
        GROUP BY ALL
        """,
        [year, [x.code for x in roster]],  # the contract's snapshot ledgers: one, or none
    ).pl()
    snapshot_rows = pl.DataFrame(
        [(s, x.code, x.name_zh, x.unit_zh) for s in scopes for x in roster],
        schema={"scope": pl.Utf8, "ledger": pl.Utf8, "ledger_zh": pl.Utf8, "unit_zh": pl.Utf8},
        orient="row",
    ).join(snaps, on=["scope", "ledger"], how="left").with_columns(
        pl.when(pl.col("latest_snapshot").is_null()).then(pl.lit("missing"))
        .otherwise(pl.lit("snapshot")).alias("status"),
    )  # fmt: skip
    out = pl.concat([months, snapshot_rows], how="diagonal_relaxed")
    return out.with_columns(
        pl.col("status").replace_strict(STATUS_ZH).alias("status_zh"),
    ).select("scope", "ledger", "ledger_zh", "unit_zh", "month", "status", "status_zh",
             "zero_report", "submitted_on", "deadline", "latest_snapshot")
