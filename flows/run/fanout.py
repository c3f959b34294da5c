"""Load many counties into the lake at once, on one machine: a local fan-out.

A city or a province whose counties' folders all sit in one inbox loads them concurrently,
each county's submission one `load_county` (one lake transaction), its commit retried by
DuckLake (`ducklake_max_retry_count`, raised by `flows.load.lake.attach`) and then by
`flows.load.lake.retried`. A county that fails is reported with its reason; the others go on.

Two ways in, the same work:

- `fan_out`: plain `concurrent.futures`, no Prefect and no server; what the bench measures.
- `county_fanout`: a Prefect flow whose tasks are the same `load_one`, through a task runner
  (`ThreadPoolTaskRunner` or `ProcessPoolTaskRunner`, `runner=`).

Processes, not threads, by default, and threads only for measuring: in one of three
5-county runs with threads, 3 of the 5 loads failed (bench/recorded-2026-12-01-consolidation.md;
the cause was not caught: Great Expectations keeps its current context in a process-wide
project manager, which two loads' suites in threads would share). A worker process's memory
is the load's own, so it can be measured and bounded, and it can own the reader processes
each load starts (`flows.extract.isolation`; a `concurrent.futures` worker is not a daemon).
Measured on 5 counties: Prefect's thread runner cost about what the plain path did, its
process runner 3.4× as much; the bench measures the plain path.

A county's loads must not run twice at once (its version ids are counted per county): each
county appears once in a fan-out, and `fan_out` refuses a list that names one twice.
"""

from __future__ import annotations

import dataclasses
import os
import resource
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from prefect import flow, task
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

from flows.contract import org_units
from flows.errors import TallyError
from flows.load import lake as store

RUNNERS = ("process", "thread")


@dataclass(frozen=True)
class CountyOutcome:
    """What one county's load came to, in a fan-out.

    `error` is None when the load committed; else the reason, naming the county. Memory is
    the worker's, in MiB: `worker_peak_mib` is the worker process's own peak resident size
    (for threads: the whole process's, shared by every load), `readers_peak_mib` the largest
    of the reader processes it has waited for (`flows.extract.isolation`).
    """

    county: str
    seconds: float
    error: str | None = None
    files_loaded: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    files_rejected: int = 0
    rows_appended: int = 0
    worker_pid: int = 0
    worker_peak_mib: float = 0.0
    readers_peak_mib: float = 0.0
    commit_seconds: float = 0.0  # the COMMIT of the lake transaction (its last attempt), DuckLake's retries in it
    attempts: int = 0  # times the whole transaction was run (1: no conflict outlived DuckLake's own retries)

    @property
    def ok(self) -> bool:
        """Whether the county's load committed."""
        return self.error is None


def _peaks() -> tuple[float, float]:
    # Linux reports ru_maxrss in KiB; RUSAGE_CHILDREN is the largest child waited for.
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def load_one(inbox: str, lake_url: str, data_path: str, county: str, checks: Sequence | None = None,
             contract: str | None = None) -> CountyOutcome:
    """Load one county's folder of the inbox into the lake; never raises for the county's own failure.

    Paths and the lake are plain strings, so the call pickles to a worker process. `contract`
    puts a contract folder in use in the worker first (a bench's synthetic org units). An
    error (a county with no folder, a lake that cannot be reached, a commit that failed after
    its retries) becomes the outcome's `error`, with the county's code and name.
    """
    from flows.contract import spec
    from flows.run.lake_run import load_county

    if contract is not None:
        spec.use_contract(contract)
    start = time.perf_counter()
    committing: list[float] = []  # when the (last) attempt of the lake transaction reached COMMIT
    try:
        done = load_county(Path(inbox), store.Lake(lake_url, Path(data_path)), county, checks=checks,
                           before_commit=lambda: committing.append(time.perf_counter()))
    except Exception as exc:  # a county's failure is its outcome; the others go on
        own, readers = _peaks()
        return CountyOutcome(county, time.perf_counter() - start, error=describe(county, exc),
                             worker_pid=os.getpid(), worker_peak_mib=own, readers_peak_mib=readers)
    end = time.perf_counter()
    s = done.ingested.summary
    own, readers = _peaks()
    return CountyOutcome(done.county, end - start, None, s.files_loaded, s.rows_loaded, s.rows_quarantined,
                         s.files_rejected, sum(done.appended.values()), os.getpid(), own, readers,
                         commit_seconds=end - committing[-1] if committing else 0.0, attempts=len(committing))


def describe(county: str, exc: BaseException) -> str:
    """A county's failure in one line: the county (name and code), what went wrong, where."""
    unit = org_units.find(county)
    who = f"{unit.name_zh}（{unit.code}）" if unit is not None else county
    if isinstance(exc, TallyError):
        return f"{who}：{exc}"
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    at = f" ({Path(where.filename).name}:{where.lineno})" if where else ""
    return f"{who} 载入失败 · load failed: {type(exc).__name__}: {exc}{at}"


def executor(runner: str, workers: int) -> Executor:
    """A `concurrent.futures` executor of `workers` processes or threads (`runner`: process | thread)."""
    if runner == "process":
        import multiprocessing

        # forkserver: a fork of a process that holds DuckDB's or polars' threads can deadlock.
        return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"))
    if runner == "thread":
        return ThreadPoolExecutor(max_workers=workers)
    raise ValueError(f"runner must be one of {RUNNERS}, not {runner!r}")


def counties_of(org: str) -> list[str]:
    """The codes of the counties at or under an org unit (a code or a name), in org_units.toml's order."""
    return [u.code for u in org_units.counties_under(org_units.resolve(org).code)]


def fan_out(inbox: Path, lake: store.Lake, counties: Sequence[str], *, workers: int = 2, runner: str = "process",
            checks: Sequence | None = None, contract: str | None = None,
            on_done: Callable[[CountyOutcome], None] | None = None,
            stop: Callable[[], bool] | None = None) -> list[CountyOutcome]:
    """Load the counties' folders of `inbox` into `lake` concurrently, `workers` at a time.

    Returns one outcome per county, in the order given; a county that fails does not stop the
    others. `on_done` is called with each outcome as it arrives (progress). `stop` is asked as
    each county finishes: when it says yes (a window closing, a bench's deadline), the counties
    not yet started are not started, and their outcome says so; loads under way finish.
    Raises ValueError when a county is named twice: its loads must run one at a time.
    """
    if len(set(counties)) != len(counties):
        twice = sorted({c for c in counties if list(counties).count(c) > 1})
        raise ValueError(f"a county's loads must run one at a time; named twice: {twice}")
    lake.data_path.mkdir(parents=True, exist_ok=True)
    _prepare(lake)
    outcomes: dict[str, CountyOutcome] = {}
    with executor(runner, workers) as pool:
        futures = {pool.submit(load_one, str(inbox), lake.url, str(lake.data_path), county, checks, contract): county
                   for county in counties}
        for future in as_completed(futures):
            county = futures[future]
            if future.cancelled():
                continue
            try:
                outcome = future.result()
            except Exception as exc:  # a worker that died (killed, out of memory)
                outcome = CountyOutcome(county, 0.0, error=describe(county, exc))
            outcomes[county] = outcome
            if on_done is not None:
                on_done(outcome)
            if stop is not None and stop():
                for pending in futures:
                    pending.cancel()  # only those not yet started
    return [outcomes.get(c) or CountyOutcome(c, 0.0, error=describe(c, NotStarted())) for c in counties]


class NotStarted(TallyError):
    """A county's load was not started: the fan-out was asked to stop."""

    def __str__(self) -> str:
        return "未开始：批量载入已停止 · not started: the fan-out was stopped"


def _prepare(lake: store.Lake) -> None:
    """Create the lake's tables once, before the workers start, so they do not race to create them."""
    from flows.connections import open_duckdb

    con = open_duckdb()
    try:
        store.attach(con, lake)
        store.ensure_tables(con)
    finally:
        con.close()


# ---------------------------------------------------------------- Prefect


class CountyLoadFailed(TallyError):
    """A county's load failed in a Prefect fan-out (the reason names the county)."""


@task(name="county-load", task_run_name="county-load-{county}")
def county_load(inbox: str, lake_url: str, data_path: str, county: str) -> CountyOutcome:
    """One county's load as a Prefect task: `load_one`, a failure raised so Prefect marks it failed."""
    outcome = load_one(inbox, lake_url, data_path, county)
    if outcome.error is not None:
        raise CountyLoadFailed(outcome.error)
    return outcome


@flow(name="county-fanout", log_prints=True)
def county_fanout_flow(inbox: str, lake_url: str, data_path: str, org: str) -> list[dict]:
    """Submit one `county-load` task per county of `org` to the flow's task runner; gather every outcome."""
    counties = counties_of(org)
    _prepare(store.Lake(lake_url, Path(data_path)))
    futures = [county_load.submit(inbox, lake_url, data_path, c) for c in counties]
    out = []
    for county, future in zip(counties, futures, strict=True):
        future.wait()
        if future.state.is_completed():
            out.append(dataclasses.asdict(future.result()) | {"ok": True})
        else:
            out.append({"county": county, "ok": False, "error": str(future.state.result(raise_on_failure=False))})
        print(f"{county}: {'ok' if out[-1]['ok'] else out[-1]['error']}")
    return out


def county_fanout(inbox: str, lake_url: str, data_path: str, org: str, workers: int = 2,
                  runner: str = "process") -> list[dict]:
    """Run the fan-out as a Prefect flow, `workers` tasks at a time in processes or threads.

    Returns one dict per county (CountyOutcome's fields and `ok`); a failed county's task is
    failed in Prefect, and its reason is in its dict. Without `PREFECT_API_URL` Prefect starts
    a temporary local server, which the first call waits for.
    """
    if runner not in RUNNERS:
        raise ValueError(f"runner must be one of {RUNNERS}, not {runner!r}")
    task_runner = (ProcessPoolTaskRunner if runner == "process" else ThreadPoolTaskRunner)(max_workers=workers)
    return county_fanout_flow.with_options(task_runner=task_runner)(inbox, lake_url, data_path, org)
