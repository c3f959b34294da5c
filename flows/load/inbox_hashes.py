"""The stat shortcut's memory: each inbox file's content hash and the stat it was computed at.

Listing the inbox hashes every byte of it (0.5 s of CPU at 4M rows, issue 16), and a run that
finds nothing new is mostly that. Like git's index and rsync, the warehouse keeps, for every
regular file the last run listed, its (size, mtime_ns, ctime_ns, inode, device) beside the
hash: the next listing takes a file whose stat is unchanged to hold the same bytes, unread
(`flows.extract.inbox.KnownHash.vouches_for`). The table is the last publishing run's listing,
written whole in its transaction (`record`); the survey reads it from the published warehouse
(`known`). A warehouse made before it has none: its files are hashed, as before.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import polars as pl

from flows.extract.inbox import FileStat, KnownHash, SourceFile
from flows.load.warehouse import insert_frame

TABLE = "inbox_hashes"

SCHEMA = {"path": pl.String, "sha256": pl.String, "size": pl.Int64, "mtime_ns": pl.Int64,
          "ctime_ns": pl.Int64, "inode": pl.Int64, "device": pl.Int64, "hashed_at_ns": pl.Int64}  # fmt: skip


def known(con: duckdb.DuckDBPyConnection) -> dict[str, KnownHash]:
    """Return path (relative to the inbox) → the hash recorded with its stat; {} when none is kept.

    Binds no parameter: binding one makes DuckDB's Python client import pandas (0.5 s), and a
    run that finds nothing new asks this.
    """
    try:
        rows = con.execute(
            f"SELECT path, sha256, size, mtime_ns, ctime_ns, inode, device, hashed_at_ns FROM {TABLE}"
        ).fetchall()
    except duckdb.CatalogException:  # a warehouse made before the table: hash everything
        return {}
    return {path: KnownHash(FileStat(size, mtime, ctime, inode, device), sha, hashed_at)
            for path, sha, size, mtime, ctime, inode, device, hashed_at in rows}


def record(con: duckdb.DuckDBPyConnection, files: Iterable[SourceFile]) -> None:
    """Replace the table with the stat and hash of every regular file of this listing.

    An entry that was not hashed whole (a link, a FIFO, a file that could not be read) has no
    `known` and is left out: the next listing looks at it afresh.
    """
    rows = [(f.rel, k.sha256, k.stat.size, k.stat.mtime_ns, k.stat.ctime_ns, k.stat.inode, k.stat.device,
             k.hashed_at_ns) for f in files if f.problem is None and (k := f.known) is not None]
    con.execute(f"DELETE FROM {TABLE}")
    insert_frame(con, TABLE, pl.DataFrame(rows, schema=SCHEMA, orient="row"))
