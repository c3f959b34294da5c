"""One run over an inbox: find what is new, read it, check it, and load it exactly once.

A run is one DuckDB transaction: if it is interrupted, the warehouse stays as it was before
the run, and the next run finds the same files new and completes the work.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from flows.contract.problems import PROBLEM_SCHEMA
from flows.extract import readers
from flows.extract.inbox import (
    SourceFile,
    discover,
    order_key,
)
from flows.extract.isolation import Limits, ReaderPool, tasks_of, too_large
from flows.extract.parse import SheetToParse, parse_sheets
from flows.extract.plan import (
    EMPTY_GRID,
    Check,
    Located,
    Prepared,
    UnitContext,
    content_sha256,
)
from flows.load.loader import (
    Pending,
    RunSummary,
    close_run,
    load_unit,
    record_read,
    reject_unit,
)
from flows.load.warehouse import (
    connect,
    seen_files,
)
from flows.privacy.protect import hash_key
from flows.validate.sheet_suites import ranges_in_suite, validate_ledgers
from flows.validate.sheet_suites import start_run as start_validation_run


def run_ingest(
    inbox: Path,
    warehouse: Path,
    *,
    checks: Sequence[Check] = (validate_ledgers,),
    progress: Callable[[str], None] | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    max_file_mb: float = Limits.max_file_mb,
    file_timeout_s: float = Limits.file_timeout_s,
    reader_memory_mb: int = Limits.reader_memory_mb,
) -> RunSummary:
    """Load what is new or changed in the inbox into the warehouse, in one transaction."""
    own = con is None
    con = con or connect(warehouse)
    run = None
    try:
        con.execute("BEGIN TRANSACTION")
        run = begin_ingest(con, inbox, warehouse)
        prepared = prepare_files(run, find_new(run), progress, max_file_mb=max_file_mb,
                                 file_timeout_s=file_timeout_s, reader_memory_mb=reader_memory_mb)
        close_readers(run)
        check_and_load(run, prepared, checks_for_run(checks))
        close_run(con, run.summary, "completed", None)
        con.execute("COMMIT")
    except BaseException:
        if run is not None:
            close_readers(run, abort=True)
        con.execute("ROLLBACK")
        raise
    finally:
        if own:
            con.close()
    return run.summary


@dataclass
class IngestRun:
    """One ingest in progress on a connection: its summary, start time and hash key."""

    con: duckdb.DuckDBPyConnection
    inbox: Path
    summary: RunSummary
    started: datetime
    key: str
    readers: ReaderPool | None = None  # the reader processes, started by the first file to read


def new_run_id() -> str:
    """Return a run id that sorts by start time (UTC) and is unique."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def begin_ingest(con, inbox: Path, warehouse: Path, *, run_id: str | None = None) -> IngestRun:
    """Record the run as running on con and return its state; `warehouse` names the hash key."""
    run = IngestRun(con, inbox, RunSummary(run_id=run_id or new_run_id()), datetime.now(UTC),
                    hash_key(warehouse, con))
    start_validation_run()
    con.execute("INSERT INTO runs (run_id, started_at, inbox, outcome) VALUES (?, ?, ?, 'running')",
                [run.summary.run_id, run.started, str(inbox)])
    return run


def find_new(run: IngestRun, files: list[SourceFile] | None = None) -> list[SourceFile]:
    """Return the inbox's files (discovered now unless given) not seen before, in load order.

    A file is unchanged when its bytes are those of the latest verdict on its path: a file
    restored to an earlier version's bytes is new again, and so is one that failed to be read.
    """
    known = seen_files(run.con)
    if files is None:
        files = discover(run.inbox) if run.inbox.exists() else []
    new = []
    for source in files:
        if (source.rel, source.sha256) in known:
            run.summary.files_unchanged += 1
        else:
            new.append(source)
    return sorted(new, key=order_key)


def prepare_files(run: IngestRun, sources: Sequence[SourceFile],
                  progress: Callable[[str], None] | None = None, *,
                  max_file_mb: float = Limits.max_file_mb, file_timeout_s: float = Limits.file_timeout_s,
                  reader_memory_mb: int = Limits.reader_memory_mb) -> list[Prepared]:
    """Read and parse files in order, recording those that are rejected.

    Files are read in the run's reader processes (`flows.extract.isolation`), bounded in memory and
    time; what is recorded of them is recorded here, in order, on the run's one connection.
    """
    limits = Limits(max_file_mb, file_timeout_s, reader_memory_mb)
    # Verdicts that need no read: an entry that is not a readable regular file, or too large.
    verdicts = {id(s): s.problem or too_large(s.size, limits) for s in sources}
    to_read = [s for s in sources if verdicts[id(s)] is None]
    if to_read and run.readers is None:
        run.readers = ReaderPool(limits, workers=len(tasks_of(to_read)))
    reads = run.readers.read(to_read) if to_read else iter(())
    located: list[Located] = []
    for source in sources:
        read = verdicts[id(source)]
        if read is None:
            read_source, read = next(reads)
            assert read_source is source, (read_source.rel, source.rel)
        if progress:
            progress(source.rel)
        located += record_read(run.con, source, read, run.summary, run.started)
    parsed = parse_sheets([
        SheetToParse(u.unit.grid.frame, u.match, ranges_in_suite(u.unit.ledger), u.unit.year,
                     u.header_rows, u.unit.grid)
        for u in located
    ])  # fmt: skip
    prepared: list[Prepared] = []
    for u, sheet in zip(located, parsed, strict=True):
        if isinstance(sheet, Exception):
            reject_unit(run.con, u.unit, run.summary, sheet, run.started)
            continue
        context = UnitContext(u.unit.ledger, u.unit.source.rel, u.unit.sheet, u.unit.period,
                              u.unit.period_start, u.unit.year)
        digest = content_sha256(u.unit.grid)
        # The parsed sheet holds what the load needs; let the whole grid go, for memory.
        unit = replace(u.unit, grid=readers.Grid(u.unit.sheet, EMPTY_GRID))
        prepared.append(Prepared(unit, context, u.match, sheet, digest))
    return prepared


def close_readers(run: IngestRun, *, abort: bool = False) -> None:
    """Stop the run's reader processes, if they were started (at once when aborting)."""
    if run.readers is not None:
        run.readers.close(abort=abort)
        run.readers = None


def checks_for_run(checks: Sequence[Check]) -> tuple[Check, ...]:
    """Return every check a run makes (the suites check duplicate keys too: see validation)."""
    return tuple(checks)


def check_and_load(run: IngestRun, prepared: Sequence[Prepared], checks: Sequence[Check]) -> None:
    """Run the checks over every prepared unit, then load or reject each one."""
    con, summary = run.con, run.summary
    checked = run_checks(prepared, checks)
    pending = Pending()
    pending.reserve(con, len(prepared))  # every unit becomes one version: loaded, unchanged or rejected
    for prep, problems in zip(prepared, checked, strict=True):
        if isinstance(problems, Exception):
            reject_unit(con, prep.unit, summary, problems, run.started, pending=pending)
            continue
        load_unit(con, prep, problems, summary, key=run.key, seen_at=run.started, pending=pending)
    pending.flush(con, run.key)


def run_checks(prepared: Sequence[Prepared], checks: Iterable[Check]) -> list[pl.DataFrame | Exception]:
    """Run every check over all units at once; a check that fails is re-run unit by unit."""
    found: list[list[pl.DataFrame]] = [[p.parsed.problems] for p in prepared]
    failed: dict[int, Exception] = {}
    for check in checks:
        try:
            results = check(prepared)
        except Exception:
            results = []
            for i, p in enumerate(prepared):
                try:
                    results.append(check([p])[0])
                except Exception as exc:
                    failed[i] = exc
                    results.append(pl.DataFrame(schema=PROBLEM_SCHEMA))
        for i, frame in enumerate(results):
            if frame.height:  # most units have nothing to add: skip the per-unit polars calls
                found[i].append(frame.select(list(PROBLEM_SCHEMA)))
    return [failed.get(i) or (f[0] if len(f) == 1 else pl.concat(f, how="vertical"))
            for i, f in enumerate(found)]
