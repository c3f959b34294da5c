"""A run's stages, written once; `tally run`, the Prefect flow, the bench and the tests follow them.

    survey → open → discover → extract (per batch) → validate → load → transform → check
    → finish → publish

| stage | what it does | returns |
| --- | --- | --- |
| survey | asks the published warehouse what it has seen of the inbox (reads only) | `Look` |
| open | starts the readers, copies the warehouse aside, begins the run there | `Opened` |
| discover | the inbox's files the warehouse has not seen, in load order | `Discovered` |
| extract | reads and parses a batch of files (rejecting what cannot be read) | `Extracted` |
| validate | the ledgers' suites on the parsed sheets (`Steps.checks`) | `Validated` |
| load | writes the rows, quarantines and rejections, and the load history | `Loaded` |
| transform | builds the SQL models (`Steps.build_models`) | `Transformed` |
| check | the cross-checks on the models (`Steps.cross_checks`) | `Checked` |
| finish | records the run in the aside copy, reads the figures, checkpoints it | `RunResult` |
| publish | swaps the aside copy in and logs the run | `RunResult` |

Each stage is a function of a `Context` (where the run works: its connection, aside copy,
reader processes, options and collaborators; `flows.run.context`) and of the results of earlier
stages; it returns its own result, a frozen dataclass (`flows.run.results`), and writes nothing
of it into the context. `run_stages` is the one place that says in which order they go, with
the batching and the flushes; a caller passes `call` to wrap each stage (the Prefect flow makes
each a task, the bench times them).
Collaborators (the checks, the model builder, the cross-checks, the publisher) come in
`Steps`, so a test injects them instead of patching modules.

A run holds the warehouse's run lock and works on a copy aside: an interrupted run publishes
nothing (`flows.publish.swap`). Its loaded rows are committed to the aside copy every
`flush_rows` parsed rows; nothing is published before the swap. Such a flush is masked in
the run's thread and written behind, in a thread of its own, while the next rows are read and
parsed (`Context.write_behind`); the next stage that uses the connection waits for it, and what
it raised fails the run there.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import logging
import shutil
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

from flows.contract.problems import PROBLEM_SCHEMA
from flows.errors import TallyError
from flows.extract.inbox import SourceFile, discover
from flows.load import inbox_hashes
from flows.load.loader import Masked, Pending, RunSummary, close_run, reject_sliced, reject_unit
from flows.load.warehouse import connect, seen_files
from flows.privacy.masking import mask_text
from flows.privacy.protect import checked_key, hash_key
from flows.publish import swap
from flows.report import notices
from flows.run.context import (
    BATCH_BYTES,
    BATCH_SIZE,
    FLUSH_ROWS,
    PAUSE_ENV,
    PAUSE_MARKER_ENV,
    PAUSE_POINTS,
    Check,
    Context,
    RunOptions,
    Steps,
    pause_point,
)
from flows.run.ingest import find_new, prepare_files, read_ahead
from flows.run.results import (
    Checked,
    Discovered,
    Extracted,
    Ingested,
    Loaded,
    Look,
    Opened,
    RunFailed,
    RunResult,
    Transformed,
    Validated,
    add_summaries,
)
from flows.run.settings import Settings
from flows.transform import indicators, models

if TYPE_CHECKING:
    # The plan and the suites import the readers and numpy: `validate` imports the suites when
    # a run has rows to check; a run that finds nothing new never does (issue 16).
    from flows.extract.plan import Prepared, Slicing
    from flows.validate.sheet_suites import ExpectationTally, SuiteFindings, Timings

__all__ = ["BATCH_SIZE", "FLUSH_ROWS", "PAUSE_ENV", "PAUSE_MARKER_ENV", "PAUSE_POINTS", "STAGES", "Check",
           "Checked", "Context", "Discovered", "Extracted", "Ingested", "Loaded", "Look", "Opened",
           "RunFailed", "RunOptions", "RunResult", "Stage", "Steps", "Transformed", "Validated",
           "add_summaries", "ingest", "run", "run_ingest", "run_stages"]  # fmt: skip

log = logging.getLogger("tally.pipeline")


# The stages


def survey(ctx: Context) -> Look:
    """Ask the published warehouse what it has seen of the inbox; change nothing.

    A warehouse that does not exist, has never been built or cannot be read has seen nothing
    (the inbox is then listed by `discover`). When it has seen every file, the answer carries
    its figures: a run that finds nothing new publishes nothing (`record_unchanged`), unless a
    month has passed its deadline with nothing handed in and no notification has said so yet.
    With `ctx.check_key`, the hash key is refused (KeyRefused) here, before any work.
    """
    if not ctx.warehouse.exists():
        check_key(ctx)
        return Look()
    try:
        with connect(ctx.warehouse, read_only=True) as con:
            check_key(ctx, con)
            if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'indicators'").fetchone()[0]:
                return Look()  # never built: build it now
            if missing_models(con):
                return Look()  # built by a release with other models (renamed marts): build it now
            known = seen_files(con)
            # the stat shortcut: a file unchanged since it was hashed is not read again
            files = tuple(discover(ctx.inbox, inbox_hashes.known(con)) if ctx.inbox.exists() else [])
            unseen = tuple(f for f in files if (f.rel, f.sha256) not in known)
            if unseen:
                return Look(files, unseen)
            if notices.untold_missing(con):
                return Look(files)  # a month newly past its deadline, unsent: run, to tell it once
            year = indicator_year(con, ctx.options.year)
            table = indicators.indicator_table(con, year) if year is not None else None
    except duckdb.Error:
        check_key(ctx)  # the run says what is wrong with the file; `begin` checks the key again there
        return Look()
    return Look(files, unseen, year, table)


def check_key(ctx: Context, con=None) -> None:
    """Refuse the hash key (KeyRefused) when the run's caller asks it checked before any work.

    `tally run` does (it exits 2, as for a bad setting). On the survey's own connection: a check
    on a connection of its own opened the warehouse a second time for every run (issue 16).
    """
    if ctx.check_key:
        checked_key(ctx.warehouse, con)


def missing_models(con) -> set[str]:
    """Return the SQL models (`flows.transform.models.discover`) the warehouse has no relation for."""
    have = {name for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' "
        "UNION ALL SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal"
    ).fetchall()}  # fmt: skip
    return set(models.discover()) - have


def record_unchanged(ctx: Context, look: Look) -> RunResult:
    """Log a run that found nothing new (the next publishing run carries it into `runs`)."""
    summary = RunSummary(run_id=ctx.run_id, files_unchanged=len(look.files or ()))
    result = RunResult(summary, ctx.inbox, "completed", ctx.started, datetime.now(UTC),
                       "没有新文件或改动，已发布的数据不变 · nothing new; the published figures stand",
                       look.year, look.figures)
    swap.append_run(ctx.warehouse, result.record())
    return result


def open_run(ctx: Context, look: Look) -> Opened:
    """Start the readers, log the run as running, copy the warehouse aside and begin the run there."""
    start_readers(ctx, look)
    pause_point("locked")
    swap.mark_interrupted(ctx.warehouse)
    swap.clean_stale_asides(ctx.warehouse)
    swap.append_run(ctx.warehouse, {"run_id": ctx.run_id, "started_at": ctx.started,
                                    "inbox": str(ctx.inbox), "outcome": swap.UNFINISHED})
    swap.build_aside(ctx.warehouse, ctx.run_id)
    pause_point("aside")
    ctx.con = connect(ctx.aside, memory_limit=ctx.options.memory_limit, temp_directory=spill_path(ctx))
    begin(ctx)
    return Opened(ctx.run_id, ctx.aside)


def start_readers(ctx: Context, look: Look) -> None:
    """Start the reader processes while the warehouse is copied aside, if a file may need reading.

    Their start (a process each, importing polars and calamine) then costs a run little.
    """
    from flows.extract.isolation import ReaderPool, listed, workers_for  # not on a nothing-new run

    # The survey listed what is new unless the warehouse is new: then a quick listing says.
    # Small CSVs are read in this process (flows.extract.isolation.readable_here): no worker.
    files = listed(ctx.inbox) if look.unseen is None else [f for f in look.unseen if f.problem is None]
    readable = workers_for(files)
    if readable:
        ctx.readers = ReaderPool(ctx.options.limits, workers=readable)
        ctx.readers.warm()


def begin(ctx: Context) -> None:
    """Begin the run's transaction on its connection and record the run as running."""
    ctx.con.execute("BEGIN TRANSACTION")
    ctx.key = hash_key(ctx.warehouse, ctx.con)
    ctx.con.execute("INSERT INTO runs (run_id, started_at, inbox, outcome) VALUES (?, ?, ?, 'running')",
                    [ctx.run_id, ctx.started, str(ctx.inbox)])


def spill_path(ctx: Context) -> Path:
    """Return the folder where the run's DuckDB spills, emptied of what a killed run left there."""
    # A folder of the run's own: DuckDB's default (`<database>.tmp`) is also where analysts'
    # read-only connections spill, and a run must not empty it under them.
    folder = swap.spill_folder(ctx.warehouse)
    shutil.rmtree(folder, ignore_errors=True)  # only one run holds the lock: nothing else uses it
    return folder


def discover_new(ctx: Context, look: Look) -> Discovered:
    """Return the inbox's files that the warehouse has not seen, in load order."""
    state = ctx.ingest_state()
    files = list(look.files) if look.files is not None else (
        discover(ctx.inbox, inbox_hashes.known(state.con)) if ctx.inbox.exists() else [])
    inbox_hashes.record(state.con, files)  # the next listing reads only what changed since
    sources = find_new(state, files)
    pause_point("discovered")
    return Discovered(tuple(sources), state.summary)


def extract(ctx: Context, sources: Sequence[SourceFile], following: Sequence[SourceFile] = (),
            slicing: Slicing | None = None) -> Extracted:
    """Read and parse a batch of files, recording the files and sheets that are rejected.

    The reader processes read this batch's files and then `following` (the next batch) while
    this process parses and loads this one; files are still recorded in the order they are read.
    With `slicing` (a sheet of many rows that a batch returned), parse its next part instead.
    """
    if slicing is not None:
        # imported by now: a batch returned `slicing`
        from flows.extract.plan import parse_next_part

        summary = RunSummary(run_id=ctx.run_id)
        part = parse_next_part(slicing)
        if isinstance(part, Exception):  # the whole unit is rejected, its earlier parts' rows too
            reject_sliced(ctx.con, slicing, part, summary, ctx.started)
            return Extracted((), summary)
        return Extracted((part,), summary)
    state = ctx.ingest_state()
    limits = ctx.options.limits
    read_ahead(state, sources, limits)
    read_ahead(state, following, limits)
    prepared = prepare_files(state, sources, ctx.progress, max_file_mb=limits.max_file_mb,
                             file_timeout_s=limits.file_timeout_s,
                             reader_memory_mb=limits.reader_memory_mb)
    ctx.readers = state.readers  # the pool starts with the first file to read, if not before
    pause_point("extracted")
    return Extracted(tuple(prepared), state.summary)


def validate(ctx: Context, prepared: Sequence[Prepared]) -> Validated:
    """Run the checks (the suites) over all units at once; a check that fails is re-run unit by unit."""
    from flows.validate.sheet_suites import SuiteFindings, add_timings, merge_suites

    found: list[list[pl.DataFrame]] = [[p.parsed.problems] for p in prepared]
    failed: dict[int, Exception] = {}
    suites: dict[str, list[ExpectationTally]] = {}
    timings: list[Timings] = []

    def take(result: SuiteFindings | Sequence[pl.DataFrame]) -> Sequence[pl.DataFrame]:
        nonlocal suites
        if isinstance(result, SuiteFindings):
            suites = merge_suites(suites, result.suites)
            timings.append(result.timings)
            return result.problems
        return result

    for check in ctx.steps.checks:
        try:
            results = take(check(prepared))
        except Exception:
            results = []
            for i, p in enumerate(prepared):
                try:
                    results.append(take(check([p]))[0])
                except Exception as exc:
                    failed[i] = exc
                    results.append(pl.DataFrame(schema=PROBLEM_SCHEMA))
        for i, frame in enumerate(results):
            if frame.height:  # most units have nothing to add: skip the per-unit polars calls
                found[i].append(frame.select(list(PROBLEM_SCHEMA)))
    problems = tuple(failed.get(i) or (f[0] if len(f) == 1 else pl.concat(f, how="vertical"))
                     for i, f in enumerate(found))
    # A key repeated across the parts of a sheet loaded in parts, in order (flows.run.parts).
    from flows.run.parts import duplicates_across_parts  # the suites' module, imported above

    problems = tuple(duplicates_across_parts(p, f, suites) if p.part is not None and not isinstance(f, Exception)
                     else f for p, f in zip(prepared, problems, strict=True))
    pause_point("validated")
    return Validated(tuple(prepared), problems, suites, add_timings(*timings))


def load(ctx: Context, validated: Validated, final: bool = True) -> Loaded:
    """Load each validated unit (or its rejection); in an aside copy, commit what is loaded.

    Not `final`: the run goes on in a new transaction, for the next batch.
    """
    con, summary = ctx.con, RunSummary(run_id=ctx.run_id)
    pending = Pending()
    pending.reserve(con, len(validated.prepared))  # every unit becomes one version: loaded, unchanged or rejected
    for prep, problems in zip(validated.prepared, validated.problems, strict=True):
        if isinstance(problems, Exception) and prep.part is not None:
            reject_sliced(con, prep.part.slicing, problems, summary, ctx.started, pending=pending)
            continue
        if isinstance(problems, Exception):
            reject_unit(con, prep.unit, summary, problems, ctx.started, pending=pending)
            continue
        ctx.steps.load_unit(con, prep, problems, summary, key=ctx.key, seen_at=ctx.started, pending=pending)
    if ctx.aside is not None and not final:
        # Nothing is published before the swap: committing aside is safe, and the rows are
        # written while the next part is parsed (the next use of the connection waits for them).
        masked = pending.masked(ctx.key)
        ctx.write_behind(lambda con: write_and_go_on(con, masked))
        return Loaded(summary)
    pending.flush(con, ctx.key)
    if ctx.aside is not None:
        con.execute("COMMIT")
    if final:
        pause_point("loaded")
    return Loaded(summary)


def write_and_go_on(con: duckdb.DuckDBPyConnection, masked: Masked) -> None:
    """Write a flush, commit it to the aside copy and begin the next batch's transaction."""
    masked.write(con)
    con.execute("COMMIT")
    con.execute("BEGIN TRANSACTION")


def transform(ctx: Context) -> Transformed:
    """Build the SQL models (staging, marts, indicators) in the aside warehouse."""
    models = tuple(ctx.steps.build_models(ctx.con))
    pause_point("transformed")
    return Transformed(models)


def check(ctx: Context, transformed: Transformed) -> Checked:
    """Run the cross-checks on the models in the aside warehouse; name the ones that found something."""
    # The Data Docs are written after the swap: they must describe what was published.
    failed = tuple(failures_of(ctx.steps.cross_checks(ctx.con)))
    pause_point("checked")
    return Checked(failed)


def finish(ctx: Context, ingested: Ingested, checked: Checked) -> RunResult:
    """Record the run in the aside warehouse, read its figures, checkpoint and close it."""
    con, summary = ctx.con, ingested.summary
    carry_logged_runs(con, ctx.warehouse)
    message = None
    if checked.failed:
        n = len(checked.failed)
        message = (f"跨台账核对发现警告 {n} 项（数据已载入，详见 tally problems）· "
                   f"{n} cross-checks found warnings (rows loaded; see tally problems)")
    close_run(con, summary, "completed", message)
    year = indicator_year(con, ctx.options.year)
    table = indicators.indicator_table(con, year) if year is not None else None
    ended = con.execute("SELECT ended_at FROM runs WHERE run_id = ?", [ctx.run_id]).fetchone()[0]
    # what is new for the units, remembered in the copy this run publishes (sent once)
    notice = notices.take_new(con, ctx.run_id, ended) if notices.can_tell(con) else None
    swap.close_aside(con)
    pause_point("checkpointed")
    return RunResult(summary, ctx.inbox, "completed", ctx.started, ended.astimezone(UTC), message,
                     year, table, checked.failed, ingested.suites, notice=notice)


def publish(ctx: Context, result: RunResult) -> RunResult:
    """Swap the finished aside warehouse in, start its Data Docs and log the run as completed."""
    docs = result.docs
    if not ctx.published:  # a retry after the swap only has the log left to write
        ctx.steps.publish(ctx.aside, ctx.warehouse)
        ctx.published = True
        pause_point("swapped")
        docs = render_docs_quietly(ctx, result, ctx.warehouse.parent / "docs")
    swap.append_run(ctx.warehouse, result.record())
    return dataclasses.replace(result, docs=docs)


@dataclass(frozen=True)
class Stage:
    """One stage: its name (in logs and as the Prefect task's name), its function, and its
    Chinese name (what an operator watching `tally run` reads beside the English one)."""

    name: str
    run: Callable[..., Any]
    zh: str = ""

    @property
    def label(self) -> str:
        """Return the stage as an operator reads it: `读取 · extract`."""
        return f"{self.zh} · {self.name}" if self.zh else self.name


SURVEY = Stage("survey", survey, "盘点仓库")  # a question, not a task: run before the lock's work begins
OPEN = Stage("open", open_run, "准备副本")
DISCOVER = Stage("discover", discover_new, "查找新文件")
EXTRACT = Stage("extract", extract, "读取")
VALIDATE = Stage("validate", validate, "校验")
LOAD = Stage("load", load, "载入")
TRANSFORM = Stage("transform", transform, "计算指标")
CHECK = Stage("check", check, "交叉核对")
FINISH = Stage("finish", finish, "收尾")
PUBLISH = Stage("publish", publish, "发布")
STAGES = (OPEN, DISCOVER, EXTRACT, VALIDATE, LOAD, TRANSFORM, CHECK, FINISH, PUBLISH)

Call = Callable[..., Any]  # call(stage, *args) -> the stage's result


def call_directly(stage: Stage, *args: Any) -> Any:
    """Run a stage in this process, as `tally run` does."""
    return stage.run(*args)


# The order, once


def batches(items: Sequence, size: int = BATCH_SIZE) -> Iterator[Sequence]:
    """Yield consecutive slices of at most `size` items."""
    for start in range(0, len(items), max(size, 1)):
        yield items[start : start + size]


def file_batches(sources: Sequence[SourceFile], size: int = BATCH_SIZE,
                 max_bytes: int = BATCH_BYTES) -> Iterator[Sequence[SourceFile]]:
    """Yield consecutive runs of files: at most `size` files, and no more than `max_bytes` of
    them together unless one file alone is larger (it is then a batch of its own)."""
    start, total = 0, 0
    for at, source in enumerate(sources):
        if at > start and (at - start >= max(size, 1) or total + source.size > max_bytes):
            yield sources[start:at]
            start, total = at, 0
        total += source.size
    if start < len(sources):
        yield sources[start:]


def ingest_stages(ctx: Context, look: Look, call: Call = call_directly) -> Ingested:
    """Discover, then extract batch by batch, validating and loading every `flush_rows` rows."""
    from flows.extract.plan import Prepared  # a run that finds nothing new never comes here

    discovered: Discovered = call(DISCOVER, ctx, look)
    done = Ingested(discovered.summary)
    held: list[Prepared] = []
    held_rows, flush = 0, ctx.options.flush_rows
    every = list(file_batches(discovered.sources, ctx.options.batch_size))
    for at, batch in enumerate(every):
        extracted: Extracted = call(EXTRACT, ctx, batch, every[at + 1] if at + 1 < len(every) else ())
        done = done.plus(extracted.summary)
        for item in extracted.prepared:
            if isinstance(item, Prepared):
                held.append(item)
                held_rows += item.parsed.rows_read
                continue
            # A sheet of many rows: its parts one by one, each flushed when the rows held reach
            # `flush_rows`, so that a city's month is never held whole in parsed frames.
            while not item.done:
                part: Extracted = call(EXTRACT, ctx, (), (), item)
                done = done.plus(part.summary)
                held += part.prepared
                held_rows += part.rows_read
                del part  # held now: what is flushed must not stay referenced here
                if flush is not None and held_rows >= flush:
                    done = validate_and_load(ctx, held, done, call, final=False)
                    held, held_rows = [], 0
        del extracted
        if flush is not None and held_rows >= flush:
            done = validate_and_load(ctx, held, done, call, final=False)
            held, held_rows = [], 0
    close_readers_of(ctx)  # every file is read: let the reader processes go
    return validate_and_load(ctx, held, done, call, final=True)


def validate_and_load(ctx: Context, held: list[Prepared], done: Ingested, call: Call, *,
                      final: bool) -> Ingested:
    """Validate and load the units held; return the totals with them (the units are let go)."""
    validated: Validated = call(VALIDATE, ctx, tuple(held))
    loaded: Loaded = call(LOAD, ctx, validated, final)
    done = done.plus(loaded.summary, validated)
    held.clear()
    del validated
    trim_heap()
    return done


def trim_heap() -> None:
    """Give the C heap's free pages back to the system once a flush's frames are let go.

    glibc keeps what Python and numpy freed (the bytes of a file read, a batch's arrays) in
    its arenas, and the next batch's frames then stack on top of it: at 4M rows the run's
    process held ~300 MiB more between flushes than it used (issue 16). `malloc_trim` returns
    the free pages; it costs milliseconds. Nothing on a C library without it. (The C library
    is the process's own symbols: `ctypes.util.find_library` would fork `ldconfig` from a
    process this large, and the fork's pages count in the run's tree.)
    """
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(None).malloc_trim(0)


# glibc's mallopt parameter for the most arenas (malloc.h: M_ARENA_MAX).
M_ARENA_MAX = -8
HEAP_ARENAS = 2


def cap_heap_arenas(arenas: int = HEAP_ARENAS) -> None:
    """Hold glibc to `arenas` malloc arenas for the rest of the process (a no-op without glibc).

    DuckDB's Python wheel allocates with the C library's malloc, and glibc gives each of its
    threads an arena of its own (up to 8 a core): what a query's threads free stays spread over
    them, half-used and never returned. At 4M rows the run's process held 250–350 MiB more from
    the model build on than with two arenas (issue 16, bench/recorded-2026-12-01d-memory.md),
    in the same time. Arenas made before the call are kept; a run makes it before it connects.
    """
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(None).mallopt(M_ARENA_MAX, arenas)


def run_stages(ctx: Context, look: Look, call: Call = call_directly) -> RunResult:
    """Run every stage after the survey, in order; the result is published."""
    call(OPEN, ctx, look)
    ingested = ingest_stages(ctx, look, call)
    transformed: Transformed = call(TRANSFORM, ctx)
    checked: Checked = call(CHECK, ctx, transformed)
    result: RunResult = call(FINISH, ctx, ingested, checked)
    return call(PUBLISH, ctx, result)


def run(ctx: Context, *, wait: float = 0.0, call: Call = call_directly,
        on_failure: Callable[[RunResult], None] | None = None) -> RunResult:
    """Run under the run lock: survey, and unless nothing is new, every stage and publish.

    A failure throws the aside work away and is logged; `on_failure` is told, then RunFailed
    is raised (an interrupt is raised as it is).
    """
    cap_heap_arenas()  # before the survey's connection starts DuckDB's threads
    with swap.run_lock(ctx.warehouse, run_id=ctx.run_id, wait=wait):
        look: Look = call(SURVEY, ctx)
        if look.nothing_new:
            return record_unchanged(ctx, look)
        returned: list[Any] = []  # what the stages returned, for the record of a failed run

        def calling(stage: Stage, *args: Any) -> Any:
            result = call(stage, *args)
            returned.append(for_the_record(result))
            return result

        try:
            return run_stages(ctx, look, calling)
        except BaseException as exc:
            result = fail(ctx, exc, returned)
            if on_failure is not None:
                on_failure(result)
            if isinstance(exc, Exception):
                raise RunFailed(result) from exc
            raise


def run_ingest(inbox: Path, warehouse: Path, *, steps: Steps | None = None,
               checks: Sequence[Check] | None = None, progress: Callable[[str], None] | None = None,
               con: duckdb.DuckDBPyConnection | None = None, max_file_mb: float | None = None,
               file_timeout_s: float | None = None, reader_memory_mb: int | None = None,
               ) -> RunSummary:
    """Load what is new or changed in the inbox into the warehouse itself, in one transaction.

    The same stages as a run (discover, extract, validate, load) without the aside copy, the
    models or the swap: for tests and tools that want the load alone. Interrupted, it leaves
    the warehouse as it was.
    """
    return ingest(inbox, warehouse, steps=steps, checks=checks, progress=progress, con=con,
                  max_file_mb=max_file_mb, file_timeout_s=file_timeout_s,
                  reader_memory_mb=reader_memory_mb).summary


def ingest(inbox: Path, warehouse: Path, *, steps: Steps | None = None,
           checks: Sequence[Check] | None = None, progress: Callable[[str], None] | None = None,
           con: duckdb.DuckDBPyConnection | None = None, **limits: float | None) -> Ingested:
    """`run_ingest`, returning the suites' tallies and timings beside the summary."""
    steps = steps or Steps()
    if checks is not None:
        steps = dataclasses.replace(steps, checks=tuple(checks))
    options = dataclasses.replace(RunOptions.from_settings(Settings(), **limits), flush_rows=None)
    ctx = Context(inbox, warehouse, options=options, steps=steps, progress=progress, aside=False)
    own = con is None
    ctx.con = con or connect(warehouse)
    try:
        begin(ctx)
        ingested = ingest_stages(ctx, Look(), call_directly)
        close_run(ctx.con, ingested.summary, "completed", None)
        ctx.con.execute("COMMIT")
    except BaseException:
        close_readers_of(ctx, abort=True)
        ctx.con.execute("ROLLBACK")
        raise
    finally:
        if own:
            ctx.con.close()
    return ingested


# Helpers of the stages


def close_readers_of(ctx: Context, *, abort: bool = False) -> None:
    """Stop the run's reader processes, if they were started (at once when aborting)."""
    if ctx.readers is not None:
        ctx.readers.close(abort=abort)
        ctx.readers = None


def failures_of(result: object) -> list[str]:
    """Name the failed checks in what the cross-checks returned (a frame or a list).

    flows.validate.cross_checks returns one row per check: check, warnings, passed.
    """
    flags = ("passed", "ok", "success")
    if result is None:
        return []
    if isinstance(result, pl.DataFrame):
        flag = next((c for c in flags if c in result.columns), None)
        failed = result.filter(~pl.col(flag)).drop(flag) if flag else result
        return [" ".join(f"{k}={v}" for k, v in row.items() if v is not None)
                for row in failed.iter_rows(named=True)]
    out = []
    for item in result if isinstance(result, list | tuple) else [result]:
        get = item.get if isinstance(item, dict) else lambda k, _i=item: getattr(_i, k, None)
        passed = next((get(f) for f in flags if get(f) is not None), False)
        if not passed:
            out.append(str(get("message") or get("name") or item))
    return out


def indicator_year(con, year: int | None) -> int | None:
    """Return the year asked for, else the latest year with data."""
    if year is not None:
        return year
    found = indicators.years(con)
    return found[-1] if found else None


def carry_logged_runs(con, warehouse: Path) -> None:
    """Copy the failed and interrupted runs of the runs log into `runs`, once each."""
    known = {r[0] for r in con.execute("SELECT run_id FROM runs").fetchall()}
    for record in swap.logged_runs(warehouse).values():
        if record["run_id"] in known or record.get("outcome") == swap.UNFINISHED:
            continue
        values = {k: record.get(k) for k in swap.RUN_COLUMNS}
        columns = ", ".join(swap.RUN_COLUMNS)
        marks = ", ".join("?" for _ in swap.RUN_COLUMNS)
        con.execute(f"INSERT INTO runs ({columns}) VALUES ({marks})", list(values.values()))


def render_docs_quietly(ctx: Context, result: RunResult, folder: Path) -> subprocess.Popen | None:
    """Start rendering the run's GX Data Docs; the docs are a view of the results, never a reason to fail."""
    try:
        return ctx.steps.render_docs(folder, dict(result.suites))
    except Exception as exc:
        log.warning("Data Docs 生成失败 · could not build Data Docs in %s: %s", folder, exc)
        return None


def for_the_record(result: Any) -> Any:
    """Return what a failed run's record needs of a stage's result: its counts, never its rows.

    Keeping every batch's parsed frames until the run ends held the whole inbox in memory
    (issue 16: 1 GiB at 1M rows in big files, growing with the rows).
    """
    if isinstance(result, Extracted):
        return Extracted((), result.summary)
    if isinstance(result, Validated):
        return None  # `fail` counts nothing of it
    return result


def fail(ctx: Context, exc: BaseException, returned: Sequence[Any] = ()) -> RunResult:
    """Throw the aside work away, log the run as failed and return its result.

    Its record counts what the stages that ended (`returned`) had done in the aside copy.
    """
    close_readers_of(ctx, abort=True)
    ctx.discard_connection()  # after any flush written behind; its transaction is rolled back
    if not ctx.published and ctx.aside is not None:
        swap.discard_aside(ctx.aside)
    reason = str(exc) or type(exc).__name__
    if not isinstance(exc, TallyError):
        reason = f"{type(exc).__name__}: {reason}"
    reason = mask_text(reason)  # an error may quote a cell; the runs log and notification keep no ID or phone
    summary = RunSummary(run_id=ctx.run_id)
    for done in returned:
        if isinstance(done, Discovered | Extracted | Loaded):
            summary = add_summaries(summary, done.summary)
    failed_checks = next((done.failed for done in returned if isinstance(done, Checked)), ())
    result = RunResult(summary, ctx.inbox, "failed", ctx.started, datetime.now(UTC),
                       f"运行失败，未发布 · run failed, nothing published: {reason}",
                       ctx.options.year, None, failed_checks)
    swap.append_run(ctx.warehouse, result.record())
    return result
