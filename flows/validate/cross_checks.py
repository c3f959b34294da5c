"""Rules across rows and ledgers, run in SQL after the load and the models: all warnings.

Each rule is one file in `sql/checks/` that selects problem records (the columns of
`problems`) from the staging views, which hold current versions only. `run_cross_checks`
rebuilds the table `check_warnings` from them on every run. The view `problem_log`, a model
(`sql/marts/problem_log.sql`), puts together everything a clerk must look at: the problems
of current versions, the rejected files, and these warnings; the model build creates
`check_warnings` empty (`ensure_check_table`) so that it can be built before the first check.
"""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl

from flows import resources
from flows.contract import spec
from flows.errors import TallyError
from flows.load.comments import RelationDoc, apply
from flows.load.ddl import quote

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
    "交叉核对警告（每次运行重建：执法人员持证、案件编号、决定期限、公示期限） · cross-check warnings, "
    "rebuilt on every run from sql/checks/",
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


def run_cross_checks(con) -> pl.DataFrame:
    """Rebuild `check_warnings` (which `problem_log` reads); return one row per check with its count."""
    missing = missing_relations(con)
    if missing:
        raise TallyError(f"交叉核对需要先构建模型（缺少 {'、'.join(missing)}）")
    con.execute(CHECK_TABLE_DDL)
    apply(con, [RelationDoc("main", CHECK_TABLE, *CHECK_TABLE_DOC)])  # the rebuild dropped them
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
    return pl.DataFrame(counts, schema={"check": pl.Utf8, "warnings": pl.Int64, "passed": pl.Boolean})

