"""The lake's Prefect flows on a real Prefect server and a real PostgreSQL catalog.

Two counties load at once and both commit; two loads of one county are kept one after the
other by the county's own limit (shown by the order of their steps and by the second finding
the files loaded, never by timing); the build records its snapshot; the upkeep deletes an
orphan Parquet file.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import duckdb
import pytest
from test_lake_load import city_inbox, lake_query

from flows.load.lake import Lake
from flows.run import lake_flows
from flows.run.lake_run import load_county

pytestmark = pytest.mark.prefect

HANG_GUARD_S = 300  # a guard against a hang only; no assertion depends on how long anything takes


@pytest.fixture
def site(tmp_path, catalog):
    """A city's tally.toml naming a lake on the test PostgreSQL, and an inbox of two counties."""
    city_inbox(tmp_path)
    (tmp_path / "tally.toml").write_text(
        f'inbox = "inbox"\nwarehouse = "ducklake:postgres:{catalog}"\nlake_data_path = "lake/data"\n'
        'lake_commit_slots = 2\n', encoding="utf-8")
    return tmp_path


def lake_of(site) -> Lake:
    return lake_flows.lake_of(lake_flows.settings_of(str(site / "tally.toml")))


def limit(name: str):
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_global_concurrency_limit_by_name(name)


def in_threads(*calls):
    """Run flow calls at once, each in a thread with its own copy of the Prefect settings context."""
    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(contextvars.copy_context().run, fn, *args, **kwargs) for fn, args, kwargs in calls]
        return [f.result(timeout=HANG_GUARD_S) for f in futures]


def test_two_counties_load_at_once_and_both_commit(prefect_harness, site, monkeypatch):
    # Both loads wait at their commit for the other: they pass only if both hold a
    # `lake-commit` slot at once (two slots here), and then both commit.
    together = threading.Barrier(2, timeout=HANG_GUARD_S)
    waited: set[str] = set()

    def load(inbox, lake, county, **options):
        def meet():
            if county not in waited:  # once: a retried transaction must not wait again
                waited.add(county)
                together.wait()
        return load_county(inbox, lake, county, checks=(), before_commit=meet, **options)

    monkeypatch.setattr(lake_flows, "load_county", load)
    config = str(site / "tally.toml")
    states = in_threads((lake_flows.county_load, (), {"county": "西吉县", "config": config, "return_state": True}),
                        (lake_flows.county_load, (), {"county": 640423, "config": config, "return_state": True}))
    assert all(s.is_completed() for s in states), [s.message for s in states]
    out = {s.result()["county"]: s.result() for s in states}
    assert (out["640422"]["files_loaded"], out["640422"]["rows_loaded"]) == (2, 3)
    assert (out["640423"]["files_loaded"], out["640423"]["rows_loaded"], out["640423"]["rows_quarantined"]) == (1, 2, 1)
    assert out["640422"]["appended"]["raw.inspections"] == 3
    lake = lake_of(site)
    assert lake_query(lake, "SELECT _county, count(*) FROM lake.raw.inspections GROUP BY 1 ORDER BY 1") == [
        ("640422", 3), ("640423", 2)]
    assert lake_query(lake, "SELECT count(DISTINCT version_id), count(*) FROM lake.file_version_log") == [(3, 3)]
    # The limits were created by the loads: the commit slots tally.toml sets, one slot per county.
    assert (limit("lake-commit").limit, limit("county-640422").limit, limit("county-640423").limit) == (2, 1, 1)
    assert (limit("lake-commit").active_slots, limit("county-640422").active_slots) == (0, 0)


def test_two_loads_of_one_county_run_one_after_the_other(prefect_harness, site, monkeypatch):
    events: list[tuple[str, int]] = []
    order = itertools.count()
    first_at_commit, second_asks = threading.Event(), threading.Event()
    seen_while_held: list[int] = []
    real_slot = lake_flows.slot

    @contextlib.contextmanager
    def slot(name, slots):
        me = run_of.get(threading.get_ident())
        if name.startswith("county-"):
            events.append(("asks", me))
            if me == 1:
                second_asks.set()
        with real_slot(name, slots):
            if name.startswith("county-"):
                events.append(("holds", me))
            yield
        if name.startswith("county-"):
            events.append(("releases", me))

    def load(inbox, lake, county, **options):
        me = run_of[threading.get_ident()]

        def at_commit():
            events.append(("commits", me))
            if me == 0:
                first_at_commit.set()
                # The second load has asked for the county's slot; give it a chance to (wrongly)
                # get in. Only the order is asserted, so a slow machine cannot fail the test.
                assert second_asks.wait(HANG_GUARD_S)
                time.sleep(2)
                seen_while_held.append(limit("county-640422").active_slots)
        return load_county(inbox, lake, county, checks=(), before_commit=at_commit, **options)

    run_of: dict[int, int] = {}

    def run(county):
        run_of[threading.get_ident()] = next(order)
        return lake_flows.county_load(county=county, config=str(site / "tally.toml"), return_state=True)

    monkeypatch.setattr(lake_flows, "slot", slot)
    monkeypatch.setattr(lake_flows, "load_county", load)
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(contextvars.copy_context().run, run, "640422")
        assert first_at_commit.wait(HANG_GUARD_S), first.result()
        second = pool.submit(contextvars.copy_context().run, run, "西吉县")  # the same county by its name
        states = [first.result(timeout=HANG_GUARD_S), second.result(timeout=HANG_GUARD_S)]
    assert all(s.is_completed() for s in states), [s.message for s in states]
    assert events == [("asks", 0), ("holds", 0), ("commits", 0), ("asks", 1), ("releases", 0),
                      ("holds", 1), ("commits", 1), ("releases", 1)]
    assert seen_while_held == [1]
    # The second load began after the first had committed: it found the files loaded.
    second_out = states[1].result()
    assert (second_out["files_loaded"], second_out["files_unchanged"]) == (0, 2)
    assert lake_query(lake_of(site), "SELECT count(DISTINCT version_id), count(*) FROM lake.file_version_log") == [
        (2, 2)]


def test_the_build_flow_records_its_snapshot(prefect_harness, site):
    lake = lake_of(site)
    load_county(site / "inbox", lake, "640422", checks=())
    load_county(site / "inbox", lake, "640423", checks=())
    state = lake_flows.build(config=str(site / "tally.toml"), return_state=True)
    assert state.is_completed(), state.message
    out = state.result()
    latest = lake_query(lake, "SELECT max(snapshot_id) FROM ducklake_snapshots('lake')")[0][0]
    assert out == {"snapshot_id": latest, "warehouse": str(site / "warehouse" / "tally.duckdb")}
    with duckdb.connect(out["warehouse"], read_only=True) as con:
        assert con.execute("SELECT snapshot_id FROM lake_builds").fetchall() == [(latest,)]
        assert con.execute("SELECT value FROM indicators WHERE year = 2024 AND code = 'inspector_person_times'"
                           ).fetchone()[0] == 2 + 3 + 4 + 5 + 1


def test_the_maintenance_flow_deletes_an_orphan_file(prefect_harness, site):
    lake = lake_of(site)
    load_county(site / "inbox", lake, "640422", checks=())
    kept = {p.name for p in lake.data_path.rglob("*.parquet")}
    stray = lake.data_path / "main" / "problems" / "ducklake-killed-load.parquet"
    stray.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT 1 AS x) TO '{stray}' (FORMAT parquet)")
    config = str(site / "tally.toml")
    young = lake_flows.maintenance(config=config)  # a day's grace by default: a load may be writing it
    assert young["orphans"] == 0 and "expired" not in young and stray.exists()
    done = lake_flows.maintenance(config=config, orphans_older_than_s=0)
    assert done["orphans"] == 1 and not stray.exists()
    assert {p.name for p in lake.data_path.rglob("*.parquet")} == kept
    assert lake_query(lake, "SELECT count(*) FROM lake.raw.inspections") == [(3,)]
