"""Load one county's submission into the lake, and build the figures from a pinned lake snapshot.

    county load:  discover (the county's folder) → extract → validate → load (in memory)
                  → publish (one lake transaction)
    build:        pin the lake's snapshot → copy the loader tables → SQL models → checks
                  → one DuckDB file, with the snapshot id beside the figures

The county load runs the run's own stages (`flows.run.stages`) over the county's folder of a
city's or a province's inbox (`<inbox>/<county>/<ledger>/<file>`, the folder named by the
county's code, name or alias), with the lake store of `flows.load.lake`: loads of different
counties run at once; each commits all or nothing. The build reads one snapshot, so the
figures it writes can be reproduced from the lake at that snapshot (`AT (VERSION => …)`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from flows.connections import open_duckdb
from flows.contract import org_units
from flows.contract.ledgers import LEDGERS
from flows.errors import TallyError
from flows.extract.inbox import SourceFile, discover
from flows.load import lake as store
from flows.load.ddl import quote
from flows.load.loader import close_run
from flows.load.warehouse import connect, set_timezone
from flows.privacy.protect import KEY_TABLE
from flows.run.context import Check, Context, RunOptions, Steps
from flows.run.results import Ingested, Look
from flows.run.settings import Settings
from flows.run.stages import begin, call_directly, close_readers_of, ingest_stages

BUILDS_TABLE = "lake_builds"  # in the built file: the snapshot each build read


class CountyNotFound(TallyError):
    """The inbox has no folder for the county asked for."""


def county_folder(inbox: Path, county: str) -> tuple[str, Path]:
    """Return (GB/T 2260 code, folder) of a county's submissions in a city's or province's inbox.

    The folder may be named by the county's code, Chinese name or an alias. Raises
    UnknownOrgUnit for a name that is no county, CountyNotFound when the inbox has no folder.
    """
    unit = org_units.resolve(county)
    if unit.level != "county":
        raise org_units.UnknownOrgUnit(f"「{county}」是{unit.name_zh}，不是县级单位 · {county} is not a county")
    for name in (unit.code, unit.name_zh, *unit.aliases):
        if (inbox / name).is_dir():
            return unit.code, inbox / name
    raise CountyNotFound(f"收件箱 {inbox} 中没有 {unit.name_zh}（{unit.code}）的文件夹：应为 {inbox}/{unit.code}/<台账>/<文件>"
                         f" · no folder for county {unit.code} in the inbox")


def county_files(inbox: Path, folder: Path) -> list[SourceFile]:
    """The county folder's files, their paths relative to the whole inbox (`西吉县/inspections/…`).

    Only the county's folder is listed and hashed, not every county's.
    """
    prefix = folder.relative_to(inbox).as_posix()
    return [dataclasses.replace(f, rel=f"{prefix}/{f.rel}") for f in discover(folder)]


@dataclass(frozen=True)
class CountyLoad:
    """What one county load did: its code, the run's totals, and the rows it appended per lake table."""

    county: str
    ingested: Ingested
    appended: dict[str, int]


def load_county(inbox: Path, lake: store.Lake, county: str, *, checks: Sequence[Check] | None = None,
                settings: Settings | None = None, before_commit: Callable[[], None] | None = None,
                commit_slot: Callable[[], AbstractContextManager] | None = None) -> CountyLoad:
    """Load what is new in one county's folder of the inbox into the lake, as one transaction.

    The loader writes to an in-memory DuckDB seeded with the county's load history; the lake
    receives everything in one commit, or nothing (an error, an interrupt or a kill before the
    commit leaves it as it was). `commit_slot` (e.g. a Prefect concurrency slot, see
    `flows.run.lake_flows`) is held around the lake transaction only, not the reading.
    Raises UnknownOrgUnit / CountyNotFound before touching the lake.
    """
    code, folder = county_folder(inbox, county)
    steps = Steps() if checks is None else Steps(checks=tuple(checks))
    options = dataclasses.replace(RunOptions.from_settings(settings or Settings()), flush_rows=None)
    con = open_duckdb()
    try:
        set_timezone(con)
        store.attach(con, lake)
        store.ensure_tables(con)
        staged = store.stage(con, code)
        ctx = Context(inbox, lake.key_anchor, options=options, steps=steps, aside=False)
        ctx.con = con
        files = county_files(inbox, folder)
        try:
            begin(ctx)  # the in-memory transaction: the lake is written only by publish
            ingested = ingest_stages(ctx, Look(files=tuple(files)), call_directly)
            close_run(con, ingested.summary, "completed", None)
            con.execute("COMMIT")
        except BaseException:
            close_readers_of(ctx, abort=True)
            con.execute("ROLLBACK")
            raise
        with commit_slot() if commit_slot is not None else contextlib.nullcontext():
            appended = store.publish(con, staged, ctx.run_id, before_commit=before_commit)
    finally:
        con.close()
    return CountyLoad(code, ingested, appended)


def build_from_lake(lake: store.Lake, out: Path, *, steps: Steps | None = None,
                    snapshot: int | None = None, county: str | None = None) -> int:
    """Build the SQL models and indicators from one lake snapshot into the DuckDB file `out`.

    The snapshot (default: the latest) is pinned for the whole build; its id is recorded in
    `lake_builds` of the built file. With `county` (a GB/T 2260 code), only that county's
    rows and load history are built: its own figures, which `flows.transform.rollup` adds up.
    The file is written aside and moved into place, so a reader never sees half a build; it
    opens with plain DuckDB, no extension. Returns the snapshot id.
    """
    steps = steps or Steps()
    aside = out.with_name(f".{out.name}.building-{os.getpid()}")
    aside.unlink(missing_ok=True)
    con = connect(aside)
    try:
        if snapshot is None:
            store.attach(con, lake, alias="lake_now", read_only=True)
            snapshot = store.current_snapshot(con, "lake_now")
            con.execute("DETACH lake_now")
        store.attach(con, lake, read_only=True, snapshot=snapshot)
        copy_lake_tables(con, county=county)
        con.execute(f"CREATE TABLE IF NOT EXISTS {BUILDS_TABLE} (snapshot_id BIGINT NOT NULL, lake VARCHAR NOT NULL, "
                    "built_at TIMESTAMPTZ NOT NULL)")
        con.execute(f"INSERT INTO {BUILDS_TABLE} VALUES (?, ?, ?)",
                    [snapshot, lake.url, datetime.now(UTC)])
        con.execute(f"DETACH {store.ALIAS}")
        steps.build_models(con)
        steps.cross_checks(con)
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        aside.unlink(missing_ok=True)
        raise
    con.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    os.replace(aside, out)
    return snapshot


def copy_lake_tables(con: duckdb.DuckDBPyConnection, alias: str = store.ALIAS, county: str | None = None) -> None:
    """Copy the loader tables of the attached lake into the connection's own file (emptied first).

    With `county`, only the rows of that county's version ids (its range, `lake.version_base`).
    """
    lake = quote(alias)
    keyed = {f"raw.{quote(code)}": "_version_id" for code in LEDGERS}
    keyed |= {"file_versions": "version_id", "problems": "version_id", "quarantined_rows": "version_id",
              "skipped_rows": "version_id", "runs": None}
    base = store.version_base(county) if county is not None else None
    for table, key in keyed.items():
        where = f" WHERE {key} BETWEEN {base} AND {base + store.VERSION_SPAN - 1}" if base is not None and key else ""
        con.execute(f"DELETE FROM {table}")
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {lake}.{table}{where}")
    con.execute(f"CREATE OR REPLACE TABLE {KEY_TABLE} AS SELECT * FROM {lake}.{KEY_TABLE}")


def lake_of(settings: Settings) -> store.Lake:
    """The lake tally.toml names (`warehouse = "ducklake:postgres:…"`, `lake_data_path`); TallyError if none."""
    if settings.lake is None or settings.lake_data_path is None:
        raise TallyError("tally.toml 的 warehouse 不是湖仓（ducklake:postgres:…）：--county 只用于市、区级的湖仓"
                         " · --county needs a lake warehouse in tally.toml")
    return store.Lake(settings.lake, settings.lake_data_path)


def run_county(settings: Settings, county: str, *, checks: Sequence[Check] | None = None,
               ) -> tuple[CountyLoad, int]:
    """`tally run --county CODE`: load the county's folder of the inbox into the lake, then build
    the figures from the lake's latest snapshot into the settings' warehouse file.

    Returns the load and the snapshot id the figures were built from.
    """
    lake = lake_of(settings)
    loaded = load_county(settings.inbox, lake, county, checks=checks, settings=settings)
    steps = Steps() if checks is None else Steps(checks=tuple(checks))
    return loaded, build_from_lake(lake, settings.warehouse, steps=steps)
