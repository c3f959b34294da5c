"""Which ledger-months of a year were handed in on time, late, or not at all: read from `submissions`.

The definition is one SQL model, `sql/marts/submissions.sql` (a view of the warehouse, with its
rule in `seed_submission_rules`): `tally completeness`, the report's completeness grid, the
report's "has last year data" test and the run's notification all read it, so they cannot
disagree. This module only selects a year from it and shapes it for the command and the grid.

A month is submitted when some version of the ledger for that period was accepted (loaded,
later superseded, or the same content again); a zero report (零报告) counts, a rejected file
does not. It is on time when tally first saw it before the end of the deadline day of the
following month plus the grace, late when after, `before_tracking` when the deadline had passed
before tally first saw any file (a back-loaded year: when it was handed in is not known),
missing once the deadline has passed with nothing accepted, and not yet due until then. The
staff roster is a snapshot and has no months: its line gives the latest snapshot date.

A warehouse built before the relation existed (or loaded without building the models, as
`run_ingest` does) has no `submissions`: the same SQL file is then run as a query over the load
history, with the rule of the settings in use.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from flows.load.current import current_relation
from flows.resources import SQL_DIR
from flows.transform import submissions as rules

DEADLINE_DAY = rules.DEADLINE_DAY
RELATION = "submissions"
SUBMISSIONS_SQL = SQL_DIR / "marts" / "submissions.sql"
STATUS_ZH = {"on_time": "已按时报送", "late": "逾期报送", "before_tracking": "已报送（开始跟踪前收到）",
             "missing": "未报送", "not_due": "未到报送期限", "snapshot": "名录快照"}  # fmt: skip
# The same statuses in the few characters a month's cell of a grid has room for; `已报*` is
# handed in, but before tally was watching, so whether on time is not known.
MARK_ZH = {"on_time": "已报", "late": "逾期", "before_tracking": "已报*", "missing": "未报",
           "not_due": "未到期"}  # fmt: skip
# Two lines, each within 80 columns of a terminal.
COMPLETENESS_LEGEND = ("已报 按时 · 零报告 按时，本月无事项 · 逾期 逾期报送 · 未报 过期未报\n"
                       "未到期 未到截止日 · 已报* 开始跟踪前收到，是否按时不详")
ZERO_MARK = "零报告"  # an on-time zero report; a late one is marked late
ACCEPTED_STATUSES = ("on_time", "late", "before_tracking")
COMPLETENESS_COLUMNS = (
    "scope", "ledger", "ledger_zh", "unit_zh", "month", "status", "status_zh", "mark",
    "zero_report", "submitted_on", "deadline", "latest_snapshot", "rejected_files",
)  # fmt: skip


def deadline_of(year: int, month: int, day: int = DEADLINE_DAY) -> date:
    """Return the deadline for a month's ledgers: that day of the following month."""
    y, m = (year + 1, 1) if month == 12 else (year, month + 1)
    return date(y, m, day)


def deadline_day_of(settings, flag: int | None = None) -> int | None:
    """Return the deadline day a flag asks for, else None: the rule stored in the warehouse applies.

    `settings` is kept for the callers' sake: the settings' rule reaches the warehouse with the
    seeds a run writes (`flows.transform.submissions`), and a warehouse without the relation
    is read under the settings in use.
    """
    return flag or None


def stored_deadline_day(con) -> int:
    """Return the deadline day the warehouse stores (the settings' in use when it has none)."""
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = ?", [rules.SEED_RULES]).fetchone()[0]  # fmt: skip
    if found:
        return int(con.execute(f"SELECT deadline_day FROM {rules.SEED_RULES}").fetchone()[0])
    return rules.rules_in_use().deadline_day


def has_relation(con) -> bool:
    """Say whether the warehouse holds the `submissions` view (models built by this tally)."""
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND view_name = ?", [RELATION]).fetchone()[0])  # fmt: skip


def submissions(con, year: int | None = None, *, deadline_day: int | None = None,
                today: date | None = None) -> pl.DataFrame:
    """Return the rows of `submissions` (of one year, or all), as of `today` under `deadline_day`.

    Columns are the relation's (see its SQL header); `today` (default: today in the bureau's
    time zone) and `deadline_day` (default: the stored rule) are set as the DuckDB variables
    the relation reads, on this connection only, and unset afterwards.
    """
    settings = {rules.TODAY_VARIABLE: today, rules.DEADLINE_VARIABLE: deadline_day}
    for name, value in settings.items():
        if value is not None:  # a date or an int from the caller, never ledger text
            kind = "DATE" if isinstance(value, date) else "INTEGER"
            con.execute(f"SET VARIABLE {name} = CAST('{value}' AS {kind})")
    try:
        where = "" if year is None else " WHERE year = $year"
        params = {} if year is None else {"year": year}
        if has_relation(con):
            return con.execute(f"SELECT * FROM {RELATION}{where}", params).pl()
        return _from_history(con, where, params)
    finally:
        for name, value in settings.items():
            if value is not None:
                con.execute(f"RESET VARIABLE {name}")


def _from_history(con, where: str, params: dict) -> pl.DataFrame:
    """Run the relation's SQL as a query, with the seeds of the settings in use registered."""
    sql = SUBMISSIONS_SQL.read_text(encoding="utf-8").strip().rstrip(";")
    sql = sql.replace("from current_versions", f"from {current_relation()}")
    frames = rules.seed_frames()
    for name, frame in frames.items():
        con.register(name, frame.to_arrow())
    try:
        return con.execute(f"SELECT * FROM ({sql}) AS s{where}", params).pl()
    finally:
        for name in frames:
            con.unregister(name)


def completeness(con, year: int, *, deadline_day: int | None = None,
                 today: date | None = None) -> pl.DataFrame:
    """Return one line per ledger and month (the roster: one line) with its submission status.

    Columns: COMPLETENESS_COLUMNS; `submitted_on` is the day tally first saw the month's
    accepted file, in the bureau's time zone.
    """
    found = submissions(con, year, deadline_day=deadline_day, today=today)
    months = (
        found.filter(pl.col("expected"))
        .with_columns(
            pl.when((pl.col("status") == "on_time") & pl.col("zero_report"))
            .then(pl.lit(ZERO_MARK))
            .otherwise(pl.col("status").replace_strict(MARK_ZH, default=None))
            .alias("mark"),
            pl.col("received_on").alias("submitted_on"),
            pl.lit(None, pl.Date).alias("latest_snapshot"),
        )
    )
    scopes = sorted(set(found["scope"].to_list())) or [""]
    snaps = found.filter(~pl.col("expected")).group_by("scope", "ledger").agg(
        pl.col("period_start").max().alias("latest_snapshot"),
        pl.col("rejected_files").sum(),
    )
    out = pl.concat([months, _snapshot_lines(scopes, snaps)], how="diagonal_relaxed")
    return (
        out.with_columns(pl.col("status").replace_strict(STATUS_ZH).alias("status_zh"),
                         pl.col("rejected_files").fill_null(0))
        .sort("scope", "ledger_order", "month", nulls_last=True)
        .select(COMPLETENESS_COLUMNS)
    )


def _snapshot_lines(scopes: list[str], snaps: pl.DataFrame) -> pl.DataFrame:
    """One line per scope and snapshot ledger: its latest snapshot of the year, or missing."""
    ledgers = rules.ledger_units_frame().filter(pl.col("kind") == "snapshot")
    lines = pl.DataFrame({"scope": scopes}).join(ledgers, how="cross")
    return lines.join(snaps, on=["scope", "ledger"], how="left").with_columns(
        pl.when(pl.col("latest_snapshot").is_null()).then(pl.lit("missing"))
        .otherwise(pl.lit("snapshot")).alias("status"),
        pl.lit("").alias("mark"),
        pl.lit(None, pl.Int32).alias("month"),
        pl.lit(False).alias("zero_report"),
    )  # fmt: skip


def ledgers_submitted(con, year: int) -> set[str]:
    """Return the ledgers for which something was submitted for the year (a month or a snapshot).

    This is what "the year has data" means for a figure: its ledgers were handed in for that
    year, not merely that some row of another year's file carries a date in it.
    """
    found = submissions(con, year).filter(pl.col("submitted"))
    return set(found["ledger"].to_list())
