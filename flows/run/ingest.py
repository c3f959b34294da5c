"""The extract side of a run: find what is new in the inbox and read it, recording rejections.

The stages that call these (discover, extract) and the order of a run are `flows.run.stages`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from flows.extract.inbox import SourceFile, discover, order_key
from flows.load.loader import RunSummary
from flows.load.warehouse import seen_files

if TYPE_CHECKING:
    from flows.extract.isolation import Limits, ReaderPool
    from flows.extract.plan import Prepared, Slicing

# The reader processes, the readers, the parser and the suites are imported by `prepare_files`
# and `read_ahead`, the functions that read: `flows.run.context` imports this module for every
# run, and a run that finds nothing new (issue 16: ≤ 1 s, process start included) reads no file.


@dataclass
class IngestRun:
    """One ingest in progress on a connection: its summary, start time and hash key.

    The connection is asked for when it is used (`con`): a flush written behind
    (`flows.run.context.Context.write_behind`) may still hold it, and reading and parsing the
    next files need it only to record what is rejected.
    """

    connection: Callable[[], duckdb.DuckDBPyConnection]
    inbox: Path
    summary: RunSummary
    started: datetime
    key: str
    readers: ReaderPool | None = None  # the reader processes, started by the first file to read

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        return self.connection()


def new_run_id() -> str:
    """Return a run id that sorts by start time (UTC) and is unique."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


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
                  max_file_mb: float | None = None, file_timeout_s: float | None = None,
                  reader_memory_mb: int | None = None) -> list[Prepared | Slicing]:
    """Read and parse files in order, recording those that are rejected.

    Files are read in the run's reader processes (`flows.extract.isolation`), bounded in memory and
    time; what is recorded of them is recorded here, in order, on the run's one connection.
    A bound not given is `Limits`' default.
    A sheet of many rows is not parsed here: it comes back as a `Slicing`, whose parts the
    run parses, checks and loads one after another (`flows.extract.plan.parse_next_part`).
    """
    from flows.extract import readers
    from flows.extract.isolation import Limits, ReaderPool, readable_here, tasks_of, too_large
    from flows.extract.parse import SheetToParse, parse_sheets, part_bounds
    from flows.extract.plan import (
        EMPTY_GRID,
        Prepared,
        Slicing,
        UnitContext,
        content_sha256,
    )
    from flows.load.loader import located_in, record_read, reject_unit, rejects_any
    from flows.validate.sheet_suites import ranges_in_suite

    given = {"max_file_mb": max_file_mb, "file_timeout_s": file_timeout_s, "reader_memory_mb": reader_memory_mb}
    limits = Limits(**{k: v for k, v in given.items() if v is not None})
    # Verdicts that need no read: an entry that is not a readable regular file, or too large.
    verdicts = {id(s): s.problem or too_large(s.size, limits) for s in sources}
    to_read = [s for s in sources if verdicts[id(s)] is None]
    if to_read and run.readers is None:
        run.readers = ReaderPool(limits, workers=len(tasks_of([s for s in to_read if not readable_here(s)])))
    reads = run.readers.read(to_read) if to_read else iter(())
    read_in_order: list[tuple[SourceFile, object]] = []
    for source in sources:
        read = verdicts[id(source)]
        if read is None:
            read_source, read = next(reads)
            assert read_source is source, (read_source.rel, source.rel)
        if progress:
            progress(source.rel)
        read_in_order.append((source, read))
    # Parsed before anything is recorded: the connection is needed only for the rejections,
    # and a flush written behind may hold it still (the parse overlaps the write).
    located = [item for _, read in read_in_order for item in located_in(read)]
    sheets = [SheetToParse(u.unit.grid.frame, u.match, ranges_in_suite(u.unit.ledger), u.unit.year,
                           u.header_rows, u.unit.grid) for u in located]
    bounds = [part_bounds(s) for s in sheets]
    whole = [i for i, b in enumerate(bounds) if len(b) == 1]
    parsed = dict(zip(whole, parse_sheets([sheets[i] for i in whole]), strict=True))
    for source, read in read_in_order:  # the rejections of the reads, in the order of the files
        if rejects_any(read):
            record_read(run.con, source, read, run.summary, run.started)
    prepared: list[Prepared | Slicing] = []
    for i, u in enumerate(located):
        if i not in parsed:
            context = UnitContext(u.unit.ledger, u.unit.source.rel, u.unit.sheet, u.unit.period,
                                  u.unit.period_start, u.unit.year)
            prepared.append(Slicing(u, sheets[i], tuple(bounds[i]), context, content_sha256(u.unit.grid)))
            continue
        sheet = parsed[i]
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


def read_ahead(run: IngestRun, sources: Sequence[SourceFile], limits: Limits) -> None:
    """Have the reader processes start on files that `prepare_files` will be given, in order."""
    from flows.extract.isolation import ReaderPool, readable_here, tasks_of, too_large

    to_read = [s for s in sources if s.problem is None and too_large(s.size, limits) is None]
    pooled = [s for s in to_read if not readable_here(s)]
    if not pooled:
        return
    if run.readers is None:
        run.readers = ReaderPool(limits, workers=len(tasks_of(pooled)))
    run.readers.prefetch(to_read)
