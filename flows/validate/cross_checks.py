"""Rules across rows and ledgers, run in SQL after the load and the models: all warnings.

Each rule is one file in `sql/checks/` that selects problem records (the columns of
`problems`) from the staging views, which hold current versions only. `run_cross_checks`
brings the table `check_warnings` up to date on every run: a check whose SQL and inputs are
those it last ran with keeps its rows (the model build records what each relation shows, in
`model_builds`), the others run again. The view `problem_log`, a model
(`sql/marts/problem_log.sql`), puts together everything a clerk must look at: the problems
of current versions, the rejected files, and these warnings; the model build creates
`check_warnings` empty (`ensure_check_table`) so that it can be built before the first check.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import duckdb
import polars as pl

from flows import resources
from flows.contract import spec
from flows.errors import TallyError
from flows.load.comments import RelationDoc, apply
from flows.load.ddl import quote
from flows.load.warehouse import one_transaction
from flows.validate.sql_reads import reads_beyond, references

CHECKS_DIR = resources.SQL_DIR / "checks"


def checks_dir() -> Path:
    """The cross-checks of the contract in use: `checks/` beside its SQL models."""
    return spec.active().models_dir / "checks"

CHECK_TABLE = "check_warnings"
PROBLEM_COLUMNS = ("version_id", "path", "sheet", "row", "column", "header", "raw_value", "rule",
                   "severity", "message")  # fmt: skip
NEEDS = ("stg_inspections", "stg_staff", "stg_cases", "stg_publications", "calendar")
log = logging.getLogger(__name__)

CHECK_TABLE_COLUMNS = """(
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
)"""
CHECK_TABLE_DDL = f"CREATE OR REPLACE TABLE {CHECK_TABLE} {CHECK_TABLE_COLUMNS}"
# Its comments (flows/load/comments.py), beside its DDL: written again after every rebuild.
CHECK_TABLE_DOC = (
    "交叉核对警告（执法人员持证、案件编号、决定期限、公示期限；输入有变的核对每次运行重算） · cross-check "
    "warnings from sql/checks/, each check run again when its inputs changed",
    {
        "version_id": "文件版本号 · the file version (file_versions.version_id)",
        "path": "文件路径（相对收件箱） · the file's path, relative to the inbox",
        "sheet": "工作表 · the sheet",
        "row": "行号（与表格所示一致） · the row number as the spreadsheet shows it",
        "column": "仓库列名 · the warehouse column",
        "header": "表头 · the Chinese header",
        "raw_value": "原值 · the value checked, as loaded",
        "rule": "规则 · the rule (the check's name)",
        "severity": "级别 · warning: the row is loaded, the figures are still published",
        "message": "中文说明 · what to do, in Chinese, for the clerk",
        "check": "核对项 · the check (its file in sql/checks/)",
    },
)


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


def ensure_check_table(con) -> None:
    """Create `check_warnings` empty if it is missing: the model `problem_log` reads it."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {CHECK_TABLE} {CHECK_TABLE_COLUMNS}")


BUILDS_TABLE = "model_builds"  # the model builder's record (flows.transform.models), read here
CHECK_PREFIX = "checks/"  # a check's row in it: `checks/<name>`; the table's own: `checks/`


def check_fingerprint(sql: str, shown: dict[str, str | None]) -> str | None:
    """Return a check's fingerprint: its SQL and what each relation it reads shows (as the model
    build recorded it); None when it reads a relation the build did not fingerprint."""
    if reads_beyond(sql):
        return None
    digest = hashlib.sha256(f"{duckdb.__version__}|{CHECK_TABLE_COLUMNS}|{sql}".encode())
    for name in sorted(references(sql)):
        if shown.get(name) is None:
            return None
        digest.update(f"|{name}={shown[name]}".encode())
    return digest.hexdigest()


def recorded_fingerprints(con) -> dict[str, str | None] | None:
    """Return what `model_builds` records each relation shows, and each check was last run with;
    None when there is no such record (models built by a release before it, or by hand)."""
    have = con.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE database_name = current_database() "
        f"AND schema_name = 'main' AND table_name = '{BUILDS_TABLE}' AND column_name = 'shown'"
    ).fetchone()[0]
    if not have:
        return None
    return dict(con.execute(f"SELECT model, shown FROM {BUILDS_TABLE}").fetchall())


def run_cross_checks(con, *, reuse: bool = True) -> pl.DataFrame:
    """Bring `check_warnings` (which `problem_log` reads) up to date; return one row per check
    with its count.

    A check whose SQL and inputs (the fingerprints the model build recorded for the relations
    it reads) are those it last ran with keeps its rows: the same query over the same rows
    gives the same warnings. The others run again; `reuse=False` runs every check.
    """
    missing = missing_relations(con)
    if missing:
        raise TallyError(f"交叉核对需要先构建模型（缺少 {'、'.join(missing)}）")
    with one_transaction(con):  # one commit: one flush of the write-ahead log, not one per statement
        return update_checks(con, reuse=reuse)


def update_checks(con, *, reuse: bool) -> pl.DataFrame:
    """`run_cross_checks`, on whatever transaction con is in."""
    checks = check_files()
    recorded = recorded_fingerprints(con)
    table = hashlib.sha256(CHECK_TABLE_COLUMNS.encode()).hexdigest()
    if not reuse or recorded is None or recorded.get(CHECK_PREFIX) != table:
        con.execute(CHECK_TABLE_DDL)
        apply(con, [RelationDoc("main", CHECK_TABLE, *CHECK_TABLE_DOC)])  # the rebuild dropped them
        if recorded is not None:
            recorded = {k: v for k, v in recorded.items() if not k.startswith(CHECK_PREFIX)}
            record(con, CHECK_PREFIX, table)
    else:  # the rows of checks that are gone
        con.execute(f'DELETE FROM {CHECK_TABLE} WHERE NOT list_contains(?, "check")', [list(checks)])
    columns = ", ".join(quote(c) for c in PROBLEM_COLUMNS)
    for name, sql in checks.items():
        found = None if recorded is None else check_fingerprint(sql, recorded)
        if found is not None and recorded.get(CHECK_PREFIX + name) == found:
            continue  # its inputs did not change: its rows stand
        con.execute(f'DELETE FROM {CHECK_TABLE} WHERE "check" = ?', [name])
        con.execute(
            f"INSERT INTO {CHECK_TABLE} ({columns}, \"check\") "
            f"SELECT {columns}, ? FROM ({sql}) AS found",
            [name],
        )
        if recorded is not None:
            record(con, CHECK_PREFIX + name, found)
    counted = dict(con.execute(f'SELECT "check", count(*) FROM {CHECK_TABLE} GROUP BY "check"').fetchall())
    counts = [{"check": name, "warnings": counted.get(name, 0), "passed": not counted.get(name, 0)}
              for name in checks]
    return pl.DataFrame(counts, schema={"check": pl.Utf8, "warnings": pl.Int64, "passed": pl.Boolean})


def record(con, key: str, found: str | None) -> None:
    """Record in `model_builds` the fingerprint a check was run with (None: none, run it again)."""
    con.execute(f"DELETE FROM {BUILDS_TABLE} WHERE model = ?", [key])
    if found is not None:
        con.execute(f"INSERT INTO {BUILDS_TABLE} (model, fingerprint, shown) VALUES (?, ?, ?)",
                    [key, found, found])
