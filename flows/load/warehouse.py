"""Open the DuckDB warehouse and write one file version's rows, problems and history into it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from flows.connections import open_duckdb
from flows.contract import spec
from flows.errors import TallyError
from flows.load import comments
from flows.load.current import current_relation
from flows.load.ddl import create_loader_tables, quote
from flows.load.ddl_docs import loader_docs

# DuckDB's own default is 80% of the machine's memory; a run must fit in 2 GiB with the
# parsed frames beside it, so the writer spills to disk past this instead.
DEFAULT_MEMORY_LIMIT = "1GB"


# The bureau's time zone (tally.toml's `timezone`, put in use by flows/run/settings.py): timestamps
# are stored as TIMESTAMPTZ (UTC); a connection shows them, and casts them to dates, in this zone.
DISPLAY_TIMEZONE = ["Asia/Shanghai"]


def use_timezone(name: str) -> None:
    """Show timestamps in `name` (an IANA zone, checked by the settings' schema) on new connections."""
    DISPLAY_TIMEZONE[0] = name


def set_timezone(con) -> None:
    """Set the session's time zone to the bureau's (our own validated setting, never ledger text)."""
    zone = DISPLAY_TIMEZONE[0]
    if not all(ch.isalnum() or ch in "/_+-" for ch in zone):
        raise TallyError(f"时区名称无效：{zone!r} · not an IANA time zone")
    con.execute(f"SET TimeZone = '{zone}'")


def connect(path: Path, *, read_only: bool = False, memory_limit: str | None = DEFAULT_MEMORY_LIMIT,
            temp_directory: Path | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; read-only connections never create it.

    A writing connection is held to `memory_limit` (None: DuckDB's default) and spills what does
    not fit to `temp_directory` (default: DuckDB's, `<database>.tmp` beside the file).
    """
    if read_only and not path.exists():
        raise TallyError(f"仓库文件不存在：{path}（先运行 tally run）")
    path.parent.mkdir(parents=True, exist_ok=True)
    config = {}
    if not read_only and memory_limit:
        config["memory_limit"] = memory_limit
    if not read_only and temp_directory is not None:
        config["temp_directory"] = str(temp_directory)
    con = open_duckdb(str(path), read_only=read_only, config=config)
    set_timezone(con)
    if not read_only:
        create_loader_tables(con)
        comments.apply(con, loader_docs())
    return con


@contextlib.contextmanager
def one_transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run the block in one transaction: its statements commit together, or not at all.

    Each statement on its own commits, and every commit flushes the write-ahead log to disk: a
    model build of some 500 statements (the comments of every relation it recreates among them)
    waited on as many flushes. Inside a transaction already (a test's, or `run_ingest`'s), the
    block is part of it and commits with it.
    """
    try:
        con.execute("BEGIN TRANSACTION")
    except duckdb.TransactionException:
        yield  # the caller's transaction
        return
    try:
        yield
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


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
    rows_skipped: int | None = None
    zero_report: bool | None = None
    ignored_columns: tuple[str, ...] = ()
    reason: str | None = None
    failure: str | None = None  # a cause that is not the content: the next run reads it again
    contract: str | None = None  # the fingerprint of the contract the verdict was made under


def next_version_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT nextval('version_ids')").fetchone()[0]


def reserve_version_ids(con: duckdb.DuckDBPyConnection, count: int) -> list[int]:
    """Take `count` version ids from the sequence in one round trip, in increasing order."""
    if count <= 0:
        return []
    rows = con.execute("SELECT nextval('version_ids') FROM range(?)", [count]).fetchall()
    return sorted(r[0] for r in rows)


VERSION_SCHEMA = {
    "version_id": pl.Int64, "run_id": pl.String, "path": pl.String, "scope": pl.String,
    "ledger": pl.String, "period": pl.String, "period_start": pl.Date, "sheet": pl.String,
    "sha256": pl.String, "content_sha256": pl.String, "size": pl.Int64,
    "modified_at": pl.Datetime("us", "UTC"), "revision": pl.Int32, "status": pl.String,
    "rows_read": pl.Int32, "rows_loaded": pl.Int32, "rows_quarantined": pl.Int32, "rows_skipped": pl.Int32,
    "zero_report": pl.Boolean, "ignored_columns": pl.List(pl.String), "reason": pl.String,
    "seen_at": pl.Datetime("us", "UTC"), "superseded_by": pl.Int64, "failure": pl.String,
    "contract": pl.String,
}  # fmt: skip


def version_record(v: Version, seen_at: datetime) -> dict:
    """Return one load-history row as a dict, to be written later by `record_versions`."""
    record = {name: getattr(v, name, None) for name in VERSION_SCHEMA}
    record["ignored_columns"] = list(v.ignored_columns)
    record["seen_at"] = seen_at
    return record


def record_versions(con: duckdb.DuckDBPyConnection, records: list[dict]) -> None:
    """Insert many rows of the load history at once."""
    if records:
        insert_frame(con, "file_versions", pl.DataFrame(records, schema=VERSION_SCHEMA))


CurrentKey = tuple[str, str, str]  # (scope, ledger, period)


def current_versions(con) -> dict[CurrentKey, tuple[int, str, str]]:
    """Every current version, keyed (scope, ledger, period): (version_id, content_sha256, path).

    It reads the rule of the view `current_versions` (flows.load.current): inside the load's
    transaction the view may not exist yet, and is not rebuilt until the models are.
    """
    rows = con.execute(
        f"""
        SELECT scope, ledger, period, max(version_id), arg_max(content_sha256, version_id),
               arg_max(path, version_id)
        FROM {current_relation()}
        WHERE ledger IS NOT NULL AND period IS NOT NULL
        GROUP BY scope, ledger, period
        """
    ).fetchall()
    return {(scope, ledger, period): (vid, digest, path) for scope, ledger, period, vid, digest, path in rows}


def supersede_many(con, pairs: list[tuple[int, int]]) -> None:
    """Mark many versions as replaced: pairs of (old version_id, new version_id)."""
    if not pairs:
        return
    frame = pl.DataFrame(pairs, schema={"old_id": pl.Int64, "new_id": pl.Int64}, orient="row")
    con.register("_superseded", frame.to_arrow())
    try:
        con.execute(
            """
            UPDATE file_versions SET status = 'superseded', superseded_by = s.new_id
            FROM _superseded AS s WHERE file_versions.version_id = s.old_id
            """
        )
    finally:
        con.unregister("_superseded")


def insert_frame(con, table: str, frame: pl.DataFrame, schema: str | None = None) -> None:
    """Append a polars frame to a table, matching columns by name (Arrow hand-over)."""
    if frame.height == 0:
        return
    target = f"{quote(schema)}.{quote(table)}" if schema else quote(table)
    # Arrow's string views are polars' own layout: handed over without a copy. The default
    # (large_string) copies every string, which cost ~1 GiB of peak memory on the 4M-row run.
    con.register("_incoming", frame.to_arrow(compat_level=pl.CompatLevel.newest()))
    try:
        con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM _incoming")
    finally:
        con.unregister("_incoming")


def seen_files(con) -> set[tuple[str, str]]:
    """Each path's latest (path, sha256) with a verdict: the same content again is a no-op.

    Only the latest submission of a path counts, so that a file restored to an earlier
    version's bytes is read again and becomes current; a failure that was not about the
    content (`failure` set) is no verdict, so its bytes are read again too; and neither is a
    verdict made under another contract for the file's ledger (an alias added since): the file
    is read again under the contract in use.
    """
    prints = spec.active().fingerprints
    # The contract is compared here, not bound into the query: binding any parameter makes
    # DuckDB's Python client import pandas (0.5 s), and a run that finds nothing new asks only this.
    latest = con.execute(
        """
        SELECT path, sha256, ledger, contract FROM file_versions WHERE failure IS NULL
        QUALIFY row_number() OVER (PARTITION BY path ORDER BY version_id DESC) = 1
        """
    ).fetchall()
    return {(path, sha256) for path, sha256, ledger, contract in latest
            if contract is None or prints.get(ledger or "") == contract}


def current_contracts(con) -> dict[CurrentKey, str | None]:
    """The contract fingerprint of every loaded version, keyed (scope, ledger, period)."""
    rows = con.execute(
        f"""
        SELECT scope, ledger, period, contract FROM {current_relation()}
        WHERE ledger IS NOT NULL AND period IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY scope, ledger, period ORDER BY version_id DESC) = 1
        """
    ).fetchall()
    return {(scope, ledger, period): contract for scope, ledger, period, contract in rows}
