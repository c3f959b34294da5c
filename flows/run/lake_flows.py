"""The lake's Prefect flows and their deployments: county loads, the build, the upkeep.

A city or a province (`warehouse = "ducklake:postgres:…"` in tally.toml) runs three flows
instead of the county bureau's nightly run (`flows.run.prefect_flow`):

    county-load   one county's folder of the inbox into the lake (`load_county`), when the
                  county has submitted: `prefect deployment run tally-county-load/county-load
                  -p county=640422`
    build         the figures from one pinned lake snapshot into the warehouse file
                  (`build_from_lake`), nightly on tally.toml's `schedule`; one at a time
    maintenance   the lake's upkeep (`flows.load.lake.maintain`: merge small files, delete
                  orphan files, expire snapshots only when asked), weekly on
                  `maintenance_schedule`; one at a time

Two Prefect global concurrency limits keep the county loads safe, both created when missing:

- `county-<code>`, one slot, held for a county's whole load. A county's version ids continue
  its own range in the lake (`flows.load.lake.version_base`), so two loads of one county must
  never overlap: the second waits for the first, then finds its files already loaded. This is
  the lake's replacement for the single file's run lock.
- `lake-commit`, `lake_commit_slots` slots (tally.toml, default 4), held around the lake
  transaction only, not the reading: DuckLake retries conflicting commits, and bounding how
  many commit at once keeps the retries few (the spike: a limit around the commit removed
  every conflict).

Slots are leases: a load killed while holding one gives it back when its lease runs out
(`LEASE_S`), so a killed load blocks its county for at most that long.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from prefect import flow, get_run_logger

from flows.connections import open_duckdb
from flows.contract import org_units
from flows.load import lake as store
from flows.run.lake_run import build_from_lake, lake_of, load_county
from flows.run.settings import Settings, load_settings

COUNTY_LOAD, BUILD, MAINTENANCE = "county-load", "build", "maintenance"  # the deployments' names
FLOW_NAMES = {COUNTY_LOAD: "tally-county-load", BUILD: "tally-build", MAINTENANCE: "tally-maintenance"}
COMMIT_LIMIT = "lake-commit"
# How long a held slot outlives a process that died holding it (Prefect renews the lease of a
# live holder every 3/4 of it): short enough that a killed load does not block its county long.
LEASE_S = 120.0
ORPHAN_AGE_S = 86400.0  # files no snapshot knows are deleted once a day old (a load may be writing them)


def county_limit(code: str) -> str:
    """The name of a county's own concurrency limit (one slot): `county-640422`."""
    return f"county-{code}"


def ensure_limit(name: str, slots: int) -> None:
    """Create the Prefect global concurrency limit `name` with `slots` slots, or set its slots.

    tally.toml is where the slots are set, so a limit changed by hand is set back at the next
    load. Two loads starting at once may both try to create it: the loser finds it there.
    """
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectAlreadyExists

    with get_client(sync_client=True) as client:
        try:
            client.upsert_global_concurrency_limit_by_name(name, slots)
        except ObjectAlreadyExists:
            client.upsert_global_concurrency_limit_by_name(name, slots)


@contextlib.contextmanager
def slot(name: str, slots: int) -> Iterator[None]:
    """Hold one slot of the global concurrency limit `name` (created with `slots` when missing).

    Waits as long as it takes (a county's second load waits for its first). `strict`: a limit
    that is missing raises instead of being silently skipped, which Prefect does by default;
    and a lease that cannot be renewed stops the load (Prefect cancels it) rather than letting
    a second load of the county in beside it: the lake keeps none of a load stopped before its
    commit.
    """
    from prefect.concurrency.sync import concurrency

    ensure_limit(name, slots)
    with concurrency(name, occupy=1, strict=True, lease_duration=LEASE_S):
        yield


def settings_of(config: str | None) -> Settings:
    """tally.toml (the one named, else found from the working folder)."""
    return load_settings(Path(config) if config else None)


@flow(name=FLOW_NAMES[COUNTY_LOAD], log_prints=True, timeout_seconds=4 * 3600)
def county_load(county: str | int, config: str | None = None) -> dict:
    """Load what is new in one county's folder of the inbox into the lake, as one transaction.

    `county` is a GB/T 2260 code, a Chinese name or an alias (`640422`, `西吉县`); a code may
    come as a number (`prefect deployment run … -p county=640422` sends one). Holds the
    county's own limit for the whole load and a `lake-commit` slot around the commit. Returns
    the county's code, the run's counts and the rows appended per lake table. Raises
    UnknownOrgUnit / CountyNotFound (the county or its folder) before touching the lake.
    """
    logger = get_run_logger()
    settings = settings_of(config)
    lake = lake_of(settings)
    code = org_units.resolve(str(county)).code
    with slot(county_limit(code), 1):
        logger.info("载入 %s · loading county %s into the lake", code, code)
        loaded = load_county(settings.inbox, lake, code, settings=settings,
                             commit_slot=lambda: slot(COMMIT_LIMIT, settings.lake_commit_slots))
    s = loaded.ingested.summary
    logger.info("%s：载入 %d 个文件、%d 行，隔离 %d 行，退回 %d 个文件 · loaded %d files, %d rows; "
                "%d rows quarantined, %d files rejected", code, s.files_loaded, s.rows_loaded,
                s.rows_quarantined, s.files_rejected, s.files_loaded, s.rows_loaded, s.rows_quarantined,
                s.files_rejected)
    for path, sheet, reason in s.rejected:
        logger.warning("退回 · rejected %s%s: %s", path, f"（{sheet}）" if sheet else "", reason)
    return {"county": loaded.county, "run_id": s.run_id, "files_loaded": s.files_loaded,
            "files_unchanged": s.files_unchanged, "files_superseded": s.files_superseded,
            "files_rejected": s.files_rejected, "rows_loaded": s.rows_loaded,
            "rows_quarantined": s.rows_quarantined, "appended": dict(loaded.appended)}


@flow(name=FLOW_NAMES[BUILD], log_prints=True, timeout_seconds=4 * 3600)
def build(config: str | None = None) -> dict:
    """Build the figures from the lake's latest snapshot into the warehouse file of tally.toml.

    The snapshot is pinned for the whole build and recorded in the file's `lake_builds`.
    Returns the snapshot id and the file. Its deployment runs one build at a time.
    """
    settings = settings_of(config)
    snapshot = build_from_lake(lake_of(settings), settings.warehouse)
    get_run_logger().info("湖仓快照 %d → %s · built from lake snapshot %d", snapshot, settings.warehouse, snapshot)
    return {"snapshot_id": snapshot, "warehouse": str(settings.warehouse)}


@flow(name=FLOW_NAMES[MAINTENANCE], log_prints=True, timeout_seconds=4 * 3600)
def maintenance(config: str | None = None, orphans_older_than_s: float = ORPHAN_AGE_S,
                expire_older_than_days: float | None = None) -> dict:
    """The lake's upkeep: merge small Parquet files, delete orphan files, expire old snapshots.

    Orphans (files no snapshot knows: what a load killed before its commit leaves) are deleted
    once older than `orphans_older_than_s` seconds. Snapshots are expired only when
    `expire_older_than_days` is given: an expired snapshot can no longer reproduce the figures
    built or signed at it. Returns how many files each step merged or removed.
    """
    lake = lake_of(settings_of(config))
    con = open_duckdb()
    try:
        store.attach(con, lake)
        done = store.maintain(con, orphans_older_than_s=orphans_older_than_s,
                              expire_older_than_s=None if expire_older_than_days is None
                              else expire_older_than_days * 86400.0)
    finally:
        con.close()
    get_run_logger().info("湖仓维护 · lake upkeep: %s", ", ".join(f"{k} {v}" for k, v in done.items()))
    return done


def lake_deployments(settings: Settings, *, config: Path | None = None) -> list:
    """The three deployments `tally serve` serves for a lake: county-load, build and maintenance.

    county-load has no schedule (a county's submission starts it, with `county`); build runs on
    tally.toml's `schedule`, maintenance on its `maintenance_schedule`, both in its `timezone`,
    each one at a time (a second run waits in the queue).
    """
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    parameters = {"config": str(config.resolve())} if config is not None else {}
    one_at_a_time = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE)
    common = {"parameters": parameters, "tags": ["tally", "lake"], "entrypoint_type": EntrypointType.MODULE_PATH}
    return [
        county_load.to_deployment(
            name=COUNTY_LOAD, **common,
            description="载入一个县的新报台账到湖仓（参数 county）· load one county's new files into the lake"),
        build.to_deployment(
            name=BUILD, **common, concurrency_limit=one_at_a_time,
            schedules=[Cron(settings.schedule, timezone=settings.timezone)],
            description="从湖仓快照计算指标 · build the figures from one lake snapshot"),
        maintenance.to_deployment(
            name=MAINTENANCE, **common, concurrency_limit=one_at_a_time,
            schedules=[Cron(settings.maintenance_schedule, timezone=settings.timezone)],
            description="湖仓维护：合并小文件、删除孤立文件 · lake upkeep: merge small files, delete orphans"),
    ]
