"""The lake: a city's or a province's warehouse on DuckLake, its catalog in PostgreSQL.

A county bureau's warehouse is one DuckDB file with one writer. A city or a province
consolidates many counties that submit on their own schedules, so their loads must commit
concurrently while analysts read: `warehouse` may then be a DuckLake URL
(`ducklake:postgres:dbname=… host=…`) with a data path for the Parquet files (tally.toml's
`lake_data_path`).

What differs from the single file, and why:

- **Extensions come from PyPI wheels** (`duckdb-extension-ducklake`, `duckdb-extension-postgres`,
  pinned with duckdb), never downloaded at run time: a bureau's intranet reaches no
  extension repository. The postgres wheel ships `postgres.duckdb_extension`, but DuckDB looks
  for the entry point of the file's name, and the extension's is `postgres_scanner`: it is
  loaded through a link of that name (`extension_folder`).
- **No sequences, no primary keys** (DuckLake has neither): a version id is the county's code
  × 10¹² plus a count within the county. A county's loads run one at a time (its own
  concurrency limit of 1), so the count needs no shared sequence.
- **Shared tables are append-only.** On DuckLake an UPDATE or a DELETE of a shared table
  conflicts with any concurrent insert; appends from different counties commit side by side
  (with `ducklake_max_retry_count` raised). So the load history is `file_version_log` (one
  row per verdict, never changed) and `supersessions` (one row per version replaced), and
  `file_versions` is a view over both that reads exactly as the single file's table: the SQL
  models, `current_versions` and the checks run unchanged.
- **One county submission is one transaction.** The loader runs unchanged on an in-memory
  DuckDB (`stage`), seeded with the county's load history from the lake; `publish` then
  appends what it wrote (rows, file versions, supersessions, problems, the run) to the lake
  in one transaction: all of it or none of it.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import duckdb

from flows.contract.ledgers import LEDGERS
from flows.errors import TallyError
from flows.load.ddl import LOADER_DDL, create_loader_tables, quote, raw_table_ddl
from flows.privacy.protect import KEY_TABLE

PREFIX = "ducklake:"
ALIAS = "lake"
DUCKDB_VERSION = "v" + duckdb.__version__
# Appends of different counties conflict only on DuckLake's own catalog rows, and are retried:
# the spike on this machine had 29 of 192 commits fail at the default (10) and none at 100.
MAX_RETRY_COUNT = 100
VERSION_SPAN = 10**12  # version ids of a county: code × VERSION_SPAN + 1 …
LOG_TABLE, SUPERSESSIONS = "file_version_log", "supersessions"
# The tables a load appends to, besides the raw ledger tables and the load history.
APPENDED = ("problems", "quarantined_rows", "skipped_rows", "runs")

T = TypeVar("T")


class LakeError(TallyError):
    """The lake cannot be reached, or its extensions cannot be loaded."""


@dataclass(frozen=True)
class Lake:
    """Where a lake lives: its DuckLake URL (PostgreSQL catalog) and the folder of its Parquet files."""

    url: str
    data_path: Path

    @property
    def key_anchor(self) -> Path:
        """A path whose folder holds the lake's hash key file (beside the data folder, not in it)."""
        return self.data_path.parent / f"{self.data_path.name}.lake"


def is_lake(warehouse: str | Path) -> bool:
    """Whether a `warehouse` setting names a DuckLake (`ducklake:postgres:…`) rather than a file."""
    return str(warehouse).startswith(PREFIX)


def extension_folder() -> Path:
    """Return a folder holding the wheels' extension files under the names DuckDB loads them by."""
    import duckdb_extension_ducklake
    import duckdb_extension_postgres

    folder = Path(tempfile.gettempdir()) / f"tally-duckdb-extensions-{DUCKDB_VERSION}"
    folder.mkdir(parents=True, exist_ok=True)
    wheels = {"ducklake": (duckdb_extension_ducklake, "ducklake"),
              "postgres_scanner": (duckdb_extension_postgres, "postgres")}
    for name, (module, shipped) in wheels.items():
        source = Path(module.__file__).parent / "extensions" / DUCKDB_VERSION / f"{shipped}.duckdb_extension"
        if not source.is_file():
            raise LakeError(f"扩展文件缺失：{source}（pip install duckdb-extension-{shipped}=={duckdb.__version__}）"
                            " · extension file missing")
        link = folder / f"{name}.duckdb_extension"
        if not (link.is_symlink() and link.resolve() == source.resolve()):
            temp = folder / f".{name}.{id(link)}.tmp"
            temp.unlink(missing_ok=True)
            temp.symlink_to(source)
            temp.replace(link)  # atomic: another process may be loading the same link
    return folder


def load_extensions(con: duckdb.DuckDBPyConnection) -> None:
    """Load ducklake and postgres from the PyPI wheels into `con`; nothing is downloaded.

    Raises LakeError when a wheel is missing.
    """
    con.execute("SET autoinstall_known_extensions = false")
    folder = extension_folder()
    for name in ("postgres_scanner", "ducklake"):
        con.execute(f"LOAD '{folder / f'{name}.duckdb_extension'}'")


def attach(con: duckdb.DuckDBPyConnection, lake: Lake, *, alias: str = ALIAS, read_only: bool = False,
           snapshot: int | None = None) -> None:
    """Attach the lake as `alias` (read-only, or pinned at a snapshot version, when asked).

    The URL and the data path are bound into the statement as quoted literals: ATTACH takes no
    parameters; neither comes from a spreadsheet.
    """
    load_extensions(con)
    options = [f"DATA_PATH {literal(str(lake.data_path) + '/')}"]
    if read_only:
        options.append("READ_ONLY")
    if snapshot is not None:
        options.append(f"SNAPSHOT_VERSION {int(snapshot)}")
    lake.data_path.mkdir(parents=True, exist_ok=True)
    try:
        con.execute(f"ATTACH {literal(lake.url)} AS {quote(alias)} ({', '.join(options)})")
    except duckdb.Error as exc:
        raise LakeError(f"无法连接湖仓 {lake.url}：{exc} · cannot attach the lake") from exc
    if not read_only and snapshot is None:
        con.execute(f"SET ducklake_max_retry_count = {MAX_RETRY_COUNT}")


def literal(text: str) -> str:
    """Quote a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def lake_ddl() -> list[str]:
    """The loader's tables as the lake holds them: no sequence, no primary key, the history as a log."""
    out = []
    for ddl in LOADER_DDL:
        if "CREATE SEQUENCE" in ddl:
            continue
        ddl = re.sub(r"\s+PRIMARY KEY", "", ddl)
        out.append(re.sub(r"\bfile_versions\b", LOG_TABLE, ddl))
    out.append(f"""
    CREATE TABLE IF NOT EXISTS {SUPERSESSIONS} (
        old_id  BIGINT NOT NULL,   -- the version replaced
        new_id  BIGINT NOT NULL,   -- the version that replaced it
        run_id  VARCHAR NOT NULL
    )""")
    out.append(f"CREATE TABLE IF NOT EXISTS {KEY_TABLE} (fingerprint VARCHAR NOT NULL, "
               "recorded_at TIMESTAMP WITH TIME ZONE NOT NULL)")
    out.extend(raw_table_ddl(ledger) for ledger in LEDGERS.values())
    # The single file's `file_versions`, read from the two logs: what every model and check reads.
    out.append(f"""
    CREATE OR REPLACE VIEW file_versions AS
    SELECT log.* REPLACE (
               CASE WHEN s.new_id IS NULL THEN log.status ELSE 'superseded' END AS status,
               coalesce(s.new_id, log.superseded_by) AS superseded_by)
    FROM {LOG_TABLE} AS log
    LEFT JOIN (SELECT old_id, max(new_id) AS new_id FROM {SUPERSESSIONS} GROUP BY old_id) AS s
        ON s.old_id = log.version_id""")
    return out


def retried(work: Callable[[], T], attempts: int = 20) -> T:
    """Run `work` again when a concurrent commit made it conflict (DuckLake's own retries exhausted)."""
    for attempt in range(attempts):
        try:
            return work()
        except duckdb.TransactionException:
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def ensure_tables(con: duckdb.DuckDBPyConnection, alias: str = ALIAS) -> None:
    """Create the lake's tables and views if missing, in a transaction of their own.

    Two loads starting on a new lake may both create them: the loser's commit conflicts and is
    retried, and then finds them there.
    """
    def missing() -> bool:
        return not con.execute("SELECT count(*) FROM duckdb_views() WHERE database_name = ? "
                               "AND view_name = 'file_versions'", [alias]).fetchone()[0]

    create_once(con, alias, missing, lambda: [con.execute(ddl) for ddl in lake_ddl()])


def create_once(con: duckdb.DuckDBPyConnection, alias: str, missing: Callable[[], bool],
                create: Callable[[], object]) -> None:
    """Run `create` in the lake `alias` when `missing()` says so, in a retried transaction of its own.

    Shared by the loader's tables and the sign-off's: concurrent first users of a new lake both
    try; the loser's commit conflicts, is retried, and then finds the relations there.
    """
    def attempt() -> None:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f"USE {quote(alias)}")
            if missing():
                create()
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            con.execute("USE memory")

    retried(attempt)


def version_base(county: str) -> int:
    """The first version id of a county's range (its GB/T 2260 code × 10¹²)."""
    return int(county) * VERSION_SPAN


@dataclass(frozen=True)
class Staged:
    """An in-memory load of one county, seeded from the lake: what `publish` appends."""

    county: str
    seeded_max: int  # the county's last version id in the lake when staged (base - 1: none)
    superseded_before: frozenset[int]  # the county's versions already superseded in the lake


def stage(con: duckdb.DuckDBPyConnection, county: str, alias: str = ALIAS) -> Staged:
    """Prepare the connection's in-memory database for loading one county's submission.

    It gets the loader's tables, the county's load history from the lake (so that the loader
    sees which versions are current and which files it has seen), the lake's hash key
    fingerprint, and a sequence of version ids continuing the county's range.
    """
    base = version_base(county)
    lake = quote(alias)
    seeded_max = con.execute(f"SELECT coalesce(max(version_id), ?) FROM {lake}.{LOG_TABLE} "
                             "WHERE version_id BETWEEN ? AND ?", [base, base, base + VERSION_SPAN - 1]).fetchone()[0]
    con.execute(f"CREATE SEQUENCE memory.main.version_ids START {int(seeded_max) + 1}")
    create_loader_tables(con)  # its own sequence statement finds the one above
    con.execute(f"INSERT INTO memory.main.file_versions BY NAME SELECT * FROM {lake}.file_versions "
                "WHERE version_id BETWEEN ? AND ?", [base, base + VERSION_SPAN - 1])
    superseded = {r[0] for r in con.execute(
        "SELECT version_id FROM memory.main.file_versions WHERE status = 'superseded'").fetchall()}
    fingerprint = con.execute(f"SELECT fingerprint, recorded_at FROM {lake}.{KEY_TABLE} LIMIT 1").fetchall()
    if fingerprint:
        con.execute(f"CREATE TABLE IF NOT EXISTS memory.main.{KEY_TABLE} (fingerprint VARCHAR NOT NULL, "
                    "recorded_at TIMESTAMP WITH TIME ZONE NOT NULL)")
        con.execute(f"INSERT INTO memory.main.{KEY_TABLE} VALUES (?, ?)", list(fingerprint[0]))
    return Staged(county, int(seeded_max), frozenset(superseded))


def publish(con: duckdb.DuckDBPyConnection, staged: Staged, run_id: str, alias: str = ALIAS,
            before_commit: Callable[[], None] | None = None) -> dict[str, int]:
    """Append one staged county load to the lake in one transaction; return rows appended per table.

    Every statement is an INSERT: the county's new file versions into the log, its newly
    superseded versions as supersession events, its raw rows, problems, quarantined and
    skipped rows and its run. A conflict with another county's commit is retried by DuckLake
    (`ducklake_max_retry_count`) and then here, the whole transaction again.
    `before_commit` is a test hook (a crash test kills the process there).
    """
    lake = quote(alias)
    new = f"version_id > {int(staged.seeded_max)}"

    def append() -> dict[str, int]:
        counts: dict[str, int] = {}
        con.execute("BEGIN TRANSACTION")
        try:
            counts[LOG_TABLE] = insert(con, f"{lake}.{LOG_TABLE}",
                                       f"SELECT * REPLACE (CASE WHEN status = 'superseded' THEN 'loaded' ELSE status END "
                                       f"AS status, NULL::BIGINT AS superseded_by) FROM memory.main.file_versions WHERE {new}")
            # Those superseded before this load already have their event (NOT IN (NULL) would match none).
            old = ", ".join(str(v) for v in sorted(staged.superseded_before)) or "-1"
            counts[SUPERSESSIONS] = insert(con, f"{lake}.{SUPERSESSIONS}",
                                           f"SELECT version_id AS old_id, superseded_by AS new_id, {literal(run_id)} AS run_id "
                                           f"FROM memory.main.file_versions WHERE status = 'superseded' "
                                           f"AND version_id NOT IN ({old})")
            for code in LEDGERS:
                counts[f"raw.{code}"] = insert(con, f"{lake}.raw.{quote(code)}",
                                               f"SELECT * FROM memory.raw.{quote(code)}")
            for table in APPENDED:
                counts[table] = insert(con, f"{lake}.{quote(table)}", f"SELECT * FROM memory.main.{quote(table)}")
            if not con.execute(f"SELECT count(*) FROM {lake}.{KEY_TABLE}").fetchone()[0]:
                insert(con, f"{lake}.{KEY_TABLE}", f"SELECT * FROM memory.main.{KEY_TABLE}")
            if before_commit is not None:
                before_commit()
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return counts

    return retried(append)


def insert(con: duckdb.DuckDBPyConnection, target: str, select: str) -> int:
    """Append a SELECT's rows to a table by column name; return how many."""
    return con.execute(f"INSERT INTO {target} BY NAME {select}").fetchone()[0]


def current_snapshot(con: duckdb.DuckDBPyConnection, alias: str = ALIAS) -> int:
    """The lake's latest snapshot id: the version a build pins and records with its figures."""
    return con.execute(f"SELECT max(snapshot_id) FROM ducklake_snapshots({literal(alias)})").fetchone()[0]


def maintain(con: duckdb.DuckDBPyConnection, *, orphans_older_than_s: float = 86400.0,
             expire_older_than_s: float | None = None, alias: str = ALIAS) -> dict[str, int]:
    """The lake's upkeep, apart from the loads: merge small files, expire snapshots, delete orphans.

    - small Parquet files (one or more per county commit) are merged (`ducklake_merge_adjacent_files`);
    - snapshots older than `expire_older_than_s` seconds are expired, and the files only they
      used are deleted; None (the default) expires nothing, so that every built figure stays
      reproducible at its snapshot;
    - files no snapshot knows, older than `orphans_older_than_s` seconds, are deleted: a load
      killed before its commit leaves the Parquet files it had written. The age guards the files
      of a load still running (default: a day; 0 deletes every orphan, for a lake no load writes).
    Returns how many files each step removed or merged.
    """
    lake = literal(alias)
    done: dict[str, int] = {}
    done["merged"] = len(con.execute(f"CALL ducklake_merge_adjacent_files({lake})").fetchall())
    if expire_older_than_s is not None:
        done["expired"] = len(con.execute(
            f"CALL ducklake_expire_snapshots({lake}, older_than => now() - to_seconds(?::DOUBLE))",
            [expire_older_than_s]).fetchall())
        done["cleaned"] = len(con.execute(
            f"CALL ducklake_cleanup_old_files({lake}, older_than => now() - to_seconds(?::DOUBLE))",
            [expire_older_than_s]).fetchall())
    done["orphans"] = len(con.execute(
        f"CALL ducklake_delete_orphaned_files({lake}, older_than => now() - to_seconds(?::DOUBLE))",
        [orphans_older_than_s]).fetchall())
    return done
