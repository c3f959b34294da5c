"""Open the DuckDB warehouse and write one file version's rows, problems and history into it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from .errors import TallyError
from .schema import create_loader_tables, quote


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; read-only connections never create it."""
    if read_only and not path.exists():
        raise TallyError(f"仓库文件不存在：{path}（先运行 tally run）")
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    if not read_only:
        create_loader_tables(con)
    return con


@dataclass(frozen=True)
class Version:
    """One file version as it goes into `file_versions`."""

    version_id: int
    run_id: str
    path: str
    scope: str
    ledger: str | None
    period: str | None
    period_start: date | None
    sheet: str | None
    sha256: str
    content_sha256: str | None
    size: int
    modified_at: datetime
    revision: int
    status: str
    rows_read: int | None = None
    rows_loaded: int | None = None
    rows_quarantined: int | None = None
    zero_report: bool | None = None
    ignored_columns: tuple[str, ...] = ()
    reason: str | None = None


def next_version_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT nextval('version_ids')").fetchone()[0]


def record_version(con: duckdb.DuckDBPyConnection, v: Version, seen_at: datetime) -> None:
    """Insert one row of the load history."""
    con.execute(
        """
        INSERT INTO file_versions (
            version_id, run_id, path, scope, ledger, period, period_start, sheet, sha256,
            content_sha256, size, modified_at, revision, status, rows_read, rows_loaded,
            rows_quarantined, zero_report, ignored_columns, reason, seen_at
        ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            v.version_id, v.run_id, v.path, v.scope, v.ledger, v.period, v.period_start, v.sheet,
            v.sha256, v.content_sha256, v.size, v.modified_at, v.revision, v.status, v.rows_read,
            v.rows_loaded, v.rows_quarantined, v.zero_report, list(v.ignored_columns), v.reason,
            seen_at,
        ],
    )  # fmt: skip


def current_version(con, scope: str, ledger: str, period: str) -> tuple[int, str, str] | None:
    """The loaded version of a ledger's period: (version_id, content_sha256, path)."""
    return con.execute(
        """
        SELECT version_id, content_sha256, path FROM file_versions
        WHERE status = 'loaded' AND scope = ? AND ledger = ? AND period = ?
        ORDER BY version_id DESC LIMIT 1
        """,
        [scope, ledger, period],
    ).fetchone()


def supersede(con, old_id: int, new_id: int) -> None:
    """Mark a version as replaced by a later one; its rows stay for the history."""
    con.execute(
        "UPDATE file_versions SET status = 'superseded', superseded_by = ? WHERE version_id = ?",
        [new_id, old_id],
    )


def insert_frame(con, table: str, frame: pl.DataFrame, schema: str | None = None) -> None:
    """Append a polars frame to a table, matching columns by name (Arrow hand-over)."""
    if frame.height == 0:
        return
    target = f"{quote(schema)}.{quote(table)}" if schema else quote(table)
    con.register("_incoming", frame.to_arrow())
    try:
        con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM _incoming")
    finally:
        con.unregister("_incoming")


def seen_files(con) -> set[tuple[str, str]]:
    """Every (path, sha256) ever recorded: the same content again is a no-op."""
    return set(con.execute("SELECT DISTINCT path, sha256 FROM file_versions").fetchall())
