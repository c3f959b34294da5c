"""Rules across rows and ledgers, run in SQL after the load and the models: all warnings.

Each rule is one file in `sql/checks/` that selects problem records (the columns of
`problems`) from the staging views, which hold current versions only. `run_cross_checks`
rebuilds the table `check_warnings` from them on every run, and the view `problem_log`
puts together everything a clerk must look at: the problems of current versions, the
rejected files, and the cross-check warnings.
"""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl

from flows.contract import spec
from flows.errors import TallyError
from flows.load.ddl import quote

CHECKS_DIR = Path(__file__).resolve().parents[2] / "sql" / "checks"


def checks_dir() -> Path:
    """The cross-checks of the contract in use: `checks/` beside its SQL models."""
    return spec.active().models_dir / "checks"

CHECK_TABLE = "check_warnings"
PROBLEM_COLUMNS = ("version_id", "path", "sheet", "row", "column", "header", "raw_value", "rule",
                   "severity", "message")  # fmt: skip
NEEDS = ("stg_inspections", "stg_staff", "stg_cases", "stg_publications", "calendar")
log = logging.getLogger(__name__)

CHECK_TABLE_DDL = f"""
CREATE OR REPLACE TABLE {CHECK_TABLE} (
    version_id  BIGINT,
    path        VARCHAR,
    sheet       VARCHAR,
    "row"       INTEGER,
    "column"    VARCHAR,
    header      VARCHAR,
    raw_value   VARCHAR,
    rule        VARCHAR NOT NULL,
    severity    VARCHAR NOT NULL,
    message     VARCHAR NOT NULL,
    "check"     VARCHAR NOT NULL
)
"""

# Problems of current versions and rejected files (the latest state of each path), each with
# its ledger and period so that it can be sent to its unit; then the cross-check warnings.
LOADED_PROBLEMS_SQL = """
WITH versions AS (
    SELECT version_id, path, scope, ledger, period, period_start, status, reason, sheet,
           coalesce(period_start, CAST(seen_at AS DATE)) AS dated
    FROM file_versions
),
latest_per_path AS (
    SELECT path, max(version_id) AS version_id FROM versions GROUP BY path
)
SELECT 'load' AS source, v.ledger, v.scope, v.period, v.dated, p.version_id, p.path, p.sheet,
       p."row", p."column", p.header, p.raw_value, p.rule, p.severity, p.message
FROM problems p JOIN versions v USING (version_id)
WHERE v.status = 'loaded'
UNION ALL
SELECT 'rejected', v.ledger, v.scope, v.period, v.dated, v.version_id, v.path, v.sheet,
       NULL, NULL, NULL, NULL, 'file_rejected', 'error', v.reason
FROM versions v JOIN latest_per_path l USING (version_id)
WHERE v.status = 'rejected'
"""
CHECKED_PROBLEMS_SQL = f"""
UNION ALL
SELECT 'check', v.ledger, v.scope, v.period, coalesce(v.period_start, CAST(v.seen_at AS DATE)),
       c.version_id, c.path, c.sheet, c."row", c."column", c.header, c.raw_value, c.rule,
       c.severity, c.message
FROM {CHECK_TABLE} c JOIN file_versions v USING (version_id)
"""
PROBLEM_LOG_SQL = f"CREATE OR REPLACE VIEW problem_log AS {LOADED_PROBLEMS_SQL} {CHECKED_PROBLEMS_SQL}"


def check_files(folder: Path | None = None) -> dict[str, str]:
    """Return the SQL of every cross-check (default: the contract's), keyed by its file stem."""
    folder = folder or checks_dir()
    return {p.stem: p.read_text(encoding="utf-8").strip().rstrip(";")
            for p in sorted(folder.glob("*.sql"))}


def missing_relations(con) -> list[str]:
    """Return the relations the checks read that the warehouse does not have yet.

    The checks of `sql/checks/` are the default bureau's; a contract folder with `models/` has
    its own `models/checks/` (or none), whose relations are its models.
    """
    if checks_dir() != CHECKS_DIR:
        return []
    have = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
    ).fetchall()}
    return [n for n in NEEDS if n not in have]


def run_cross_checks(con) -> pl.DataFrame:
    """Rebuild `check_warnings` and `problem_log`; return one row per check with its count."""
    missing = missing_relations(con)
    if missing:
        raise TallyError(f"交叉核对需要先构建模型（缺少 {'、'.join(missing)}）")
    con.execute(CHECK_TABLE_DDL)
    columns = ", ".join(quote(c) for c in PROBLEM_COLUMNS)
    counts = []
    for name, sql in check_files().items():
        con.execute(
            f"INSERT INTO {CHECK_TABLE} ({columns}, \"check\") "
            f"SELECT {columns}, ? FROM ({sql}) AS found",
            [name],
        )
        n = con.execute(f"SELECT count(*) FROM {CHECK_TABLE} WHERE \"check\" = ?", [name]).fetchone()[0]
        counts.append({"check": name, "warnings": n, "passed": n == 0})
    con.execute(PROBLEM_LOG_SQL)
    return pl.DataFrame(counts, schema={"check": pl.Utf8, "warnings": pl.Int64, "passed": pl.Boolean})

