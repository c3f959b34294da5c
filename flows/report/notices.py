"""What a run's notification says: the new things each unit must act on, in Chinese, each once.

The candidates are one query, `sql/reports/notices.sql`, run on the run's own copy of the
warehouse after the models and the cross-checks: files rejected, file versions with rows
quarantined, rows a cross-ledger check warns about, and months late or missing as the
`submissions` relation says (the one definition `tally completeness` and the report read).
Each has a key that says what it is; `notices_sent` (a table of the warehouse) remembers the
keys a run has put in its notification, so the next run's notification carries only what is
new. The keys are recorded in the same copy of the warehouse the run publishes: a run that
fails publishes nothing and remembers nothing.

The text names units and ledgers by their Chinese names (the contract's `unit_zh`, `name_zh`)
and checks and rules by their Chinese titles (`flows.report.problem_report.RULE_NAMES`).
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from flows.load import comments, ddl_docs
from flows.report.problem_report import RULE_NAMES
from flows.resources import SQL_DIR

NOTICES_SQL = SQL_DIR / "reports" / "notices.sql"
SENT_TABLE = "notices_sent"
SENT_DDL = f"""
CREATE TABLE IF NOT EXISTS {SENT_TABLE} (
    notice_key  VARCHAR PRIMARY KEY,
    kind        VARCHAR NOT NULL,
    run_id      VARCHAR NOT NULL,
    sent_at     TIMESTAMPTZ NOT NULL
)
"""
MAX_PERIODS = 6  # months listed in one line before the rest are counted


NEEDS = ("problem_log", "submissions", "seed_ledger_units")  # what the query reads


def can_tell(con) -> bool:
    """Say whether the warehouse has what the notices are read from (a run given other models may not)."""
    have = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
    return all(name in have for name in NEEDS)


def untold_missing(con) -> bool:
    """Say whether a month is missing that no notification has named yet (read-only).

    A month becomes missing when its deadline passes, with no file new: the nightly run then
    runs anyway, so that the notification says it. A warehouse without `notices_sent` (never
    notified) waits for its next run with new files.
    """
    have = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
    if not (can_tell(con) and SENT_TABLE in have):
        return False
    sql = NOTICES_SQL.read_text(encoding="utf-8").strip().rstrip(";")
    return bool(con.execute(f"SELECT count(*) FROM ({sql}) AS n WHERE kind = 'missing'").fetchone()[0])


def ensure_sent_table(con) -> None:
    """Create `notices_sent` (with its comments) when the warehouse does not have it yet."""
    con.execute(SENT_DDL)
    comments.apply(con, [doc for doc in ddl_docs.LOADER_DOCS if doc.name == SENT_TABLE])


def new_notices(con) -> pl.DataFrame:
    """Return the notices not sent before (columns of `sql/reports/notices.sql`), in the order sent."""
    ensure_sent_table(con)
    return con.execute(NOTICES_SQL.read_text(encoding="utf-8")).pl()


def remember(con, notices: pl.DataFrame, run_id: str, at: datetime) -> None:
    """Record the notices a run's notification carries, so that no later run sends them again."""
    if notices.height:
        con.register("_new_notices", notices.select("notice_key", "kind").to_arrow())
        try:
            con.execute(f"INSERT OR IGNORE INTO {SENT_TABLE} SELECT notice_key, kind, ?, ? FROM _new_notices",
                        [run_id, at])
        finally:
            con.unregister("_new_notices")


def take_new(con, run_id: str, at: datetime) -> str | None:
    """Return the text of what is new since the last notification (None: nothing), and remember it."""
    notices = new_notices(con)
    remember(con, notices, run_id, at)
    return notice_text(notices) if notices.height else None


def notice_text(notices: pl.DataFrame) -> str:
    """Say the notices unit by unit, ledger by ledger, in Chinese: one line per kind of thing."""
    lines: list[str] = []
    scoped = notices["scope"].n_unique() > 1 or notices["scope"].drop_nulls().str.len_chars().sum() > 0
    for (scope, unit), by_unit in notices.group_by("scope", "unit_zh", maintain_order=True):
        lines.append(f"【{scope}·{unit}】" if scoped and scope else f"【{unit}】")
        for (ledger,), part in by_unit.group_by("ledger_zh", maintain_order=True):
            lines.append(f"  {ledger}")
            lines += [f"    · {line}" for line in _ledger_lines(part)]
    return "\n".join(lines)


def _ledger_lines(part: pl.DataFrame) -> list[str]:
    lines = []
    for row in part.filter(pl.col("kind") == "rejected").iter_rows(named=True):
        lines.append(f"文件被退回：{row['path']}（{row['detail'] or '原因见 tally problems'}）")
    for row in part.filter(pl.col("kind") == "quarantined").iter_rows(named=True):
        lines.append(f"{row['path']}：{row['rows']} 行有错误未载入，请改正后重报")
    checks = part.filter(pl.col("kind") == "check")
    for (rule,), rows in checks.group_by("detail", maintain_order=True):
        files = "、".join(sorted(set(rows["path"].to_list())))
        lines.append(f"核对「{RULE_NAMES.get(rule, rule)}」：{rows.height} 条（{files}）")
    for kind, words in (("late", "逾期报送"), ("missing", "过期未报送")):
        periods = part.filter(pl.col("kind") == kind)["period"].to_list()
        if periods:
            lines.append(f"{words}：{_periods(periods)}")
    return lines


def _periods(periods: list[str]) -> str:
    if len(periods) <= MAX_PERIODS:
        return "、".join(periods)
    return f"{'、'.join(periods[:MAX_PERIODS - 1])}……{periods[-1]}（共 {len(periods)} 个月）"
