"""Every DuckDB connection tally opens: duckdb.connect, with DuckDB's progress bar off.

DuckDB's Python client draws a progress bar on standard output for any statement that runs
longer than two seconds (a model build or a checkpoint at a city's size). On the clerk's
terminal it is noise among the run's own lines; in the nightly run's log and in a command's
output that another program reads, it is bytes that do not belong there.
"""

from __future__ import annotations

import duckdb


def open_duckdb(database: str = ":memory:", *, read_only: bool = False,
                config: dict | None = None) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB database (a file's path, or ":memory:") as duckdb.connect does, quietly.

    Raises what duckdb.connect raises (duckdb.Error: a file that is not a database, a lock).
    """
    con = duckdb.connect(database, read_only=read_only, config=config or {})
    # A session setting: DuckDB refuses it in connect's config ("as a global option").
    con.execute("SET enable_progress_bar = false")
    return con
