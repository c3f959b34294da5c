"""What a run is given: its options, its collaborators, and the context its stages share.

`RunOptions` take their defaults from the settings schema (`flows.run.settings.Settings`);
`Steps` are the collaborators a run calls (tests and the bench pass their own); `Context` holds
the run's resources. The stages are `flows.run.stages`.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from flows.load.loader import RunSummary, load_unit
from flows.publish import swap
from flows.run.ingest import IngestRun, new_run_id
from flows.run.settings import Settings
from flows.transform import indicators
from flows.validate.cross_checks import run_cross_checks

if TYPE_CHECKING:
    from flows.extract.isolation import Limits, ReaderPool
    from flows.extract.plan import Prepared
    from flows.validate.sheet_suites import SuiteFindings

BATCH_SIZE = 50  # files per extract call: small enough for progress, large enough to be cheap
# Bytes of files per extract call (issue 16): a batch also ends when its files reach this size,
# so that a batch of big monthly files (a city's, 30 MB each) is not 50 of them in memory at
# once, parsed, with the next 50 read ahead. About 80k rows of CSV: a batch is parsed whole
# before the flush is looked at, and 32 MB (~350k rows of the 4M big inbox's smaller
# ledgers) made the run's peak; one larger file is a batch of its own, parsed in parts.
BATCH_BYTES = 8 * 2**20
# Parsed rows held before they are validated, loaded and committed to the aside copy: bounds a
# run's memory, while each check still sees large batches. Committing there is safe because
# nothing is published before the swap, and a failed run throws the aside copy away; holding
# the whole run in one transaction instead kept every row in memory (1.96 GiB at 4M rows,
# 0.93 GiB when committed per batch). Fewer rows per flush bound the run more tightly but
# cost CPU in the load (each flush inserts per ledger and commits): at 4M rows in small files,
# 300k: tree 1153 MiB, 57.7 CPU s; 200k: 1026, 61.1; 100k: 940, 68.5 (issue 16,
# bench/recorded-2026-12-01c-memory.md). After the merge that read every CSV and small .xlsx in
# this process, quiet: 300k 1001–1017 MiB, 32.2–32.9 s; 250k 922–945, 34.5–34.9; 200k 871–924,
# 36.2–36.3. 250k keeps a margin under 1 GiB for 6% of the time.
# A flush that is not the last is written behind (`Context.write_behind`): its masked frames are
# held while the next 250k rows are parsed, and the big 4M run's process peaked at 897–924 MiB
# (quiet, 2026-12-02) against 831–894 without.
FLUSH_ROWS = 250_000
PAUSE_ENV = "TALLY_TEST_PAUSE_AT"  # test only: pause point(s), comma separated
PAUSE_MARKER_ENV = "TALLY_TEST_PAUSE_MARKER"  # test only: file that exists while paused
# Where a run can be made to wait (PAUSE_ENV), in the order a one-batch run passes them.
PAUSE_POINTS = ("locked", "aside", "discovered", "extracted", "validated", "loaded", "transformed",
                "checked", "checkpointed", "swapped")  # fmt: skip

# A check sees every prepared unit of a batch and returns one PROBLEM_SCHEMA frame per unit, or
# `SuiteFindings` (those frames and what the suites tallied, for the Data Docs).
Check = Callable[[Sequence["Prepared"]], "SuiteFindings | Sequence[pl.DataFrame]"]


# The default collaborators that a run calls only when it has rows to read: each imports its
# module when called. A run that finds nothing new (issue 16: ≤ 1 s, process start included)
# never checks or renders, and importing the suites and the Data Docs (numpy, the suites'
# runner, the offline docs) at the top cost it more than its own work.


def validate_ledgers(units: Sequence[Prepared]) -> SuiteFindings:
    """Run the ledgers' suites (`flows.validate.sheet_suites.validate_ledgers`)."""
    from flows.validate.sheet_suites import validate_ledgers as suites

    return suites(units)


def render_later(folder: Path, suites: dict) -> subprocess.Popen | None:
    """Start rendering the Data Docs (`flows.validate.data_docs.render_later`)."""
    from flows.validate import data_docs

    return data_docs.render_later(folder, suites)


# What a run is given


@dataclass(frozen=True)
class RunOptions:
    """How a run works: the figures' year, batch and flush sizes, DuckDB's memory, the readers' bounds.

    The defaults are those of the settings schema (`Settings`); `from_settings` reads a bureau's.
    """

    year: int | None = None  # the year whose figures the result carries (None: the latest)
    batch_size: int = BATCH_SIZE
    flush_rows: int | None = FLUSH_ROWS  # None: commit only at the end (one transaction)
    memory_limit: str | None = Settings.memory_limit
    # The readers' bounds by name (max_file_mb, file_timeout_s, reader_memory_mb), as `limits`
    # hands them to the readers. Kept as plain numbers: `Limits` lives with the reader processes
    # (`flows.extract.isolation`), and a run that finds nothing new starts
    # none and need not import them (issue 16).
    bounds: tuple[tuple[str, float], ...] = field(default_factory=lambda: RunOptions.bounds_of(Settings()))

    @property
    def limits(self) -> Limits:
        """Return the readers' bounds."""
        from flows.extract.isolation import Limits

        return Limits(**dict(self.bounds))

    @staticmethod
    def bounds_of(settings: Settings) -> tuple[tuple[str, float], ...]:
        """Return the readers' bounds that settings give, by name."""
        return tuple(settings.reader_limits.items())

    @classmethod
    def from_settings(cls, settings: Settings, *, year: int | None = None, batch_size: int | None = None,
                      flush_rows: int | None = None, memory_limit: str | None = None,
                      **limits: float | None) -> RunOptions:
        """Return the options of a run under `settings`, with every override that is not None."""
        bounds = {k: v for k, v in settings.reader_limits.items()}
        bounds.update({k: v for k, v in limits.items() if v is not None})
        return cls(year=year, batch_size=batch_size or BATCH_SIZE,
                   flush_rows=flush_rows if flush_rows is not None else FLUSH_ROWS,
                   memory_limit=memory_limit or settings.memory_limit, bounds=tuple(bounds.items()))


@dataclass(frozen=True)
class Steps:
    """The collaborators a run calls; a test or the bench passes its own instead of patching modules."""

    checks: tuple[Check, ...] = (validate_ledgers,)  # the suites (they check duplicate keys too)
    load_unit: Callable[..., None] = load_unit
    build_models: Callable[[duckdb.DuckDBPyConnection], list[str]] = indicators.build
    cross_checks: Callable[[duckdb.DuckDBPyConnection], object] = run_cross_checks
    publish: Callable[[Path, Path], None] = swap.swap  # puts the finished aside file in place
    render_docs: Callable[[Path, dict], subprocess.Popen | None] = render_later


class Context:
    """Where one run works: its inbox and warehouse, options, collaborators and resources.

    It holds what the stages share but do not produce: the connection, the aside copy, the
    reader processes, the hash key, and whether the swap has happened (a retried publish must
    not swap twice). Results of stages are returned, never stored here. A plain class on
    purpose: Prefect walks dataclass task arguments looking for futures.
    """

    def __init__(self, inbox: Path, warehouse: Path, *, options: RunOptions | None = None,
                 steps: Steps | None = None, progress: Callable[[str], None] | None = None,
                 run_id: str | None = None, aside: bool = True, check_key: bool = False) -> None:
        self.inbox = inbox
        self.warehouse = warehouse
        self.options = options or RunOptions()
        self.steps = steps or Steps()
        self.progress = progress  # told each file's path as it is read
        self.check_key = check_key  # the survey refuses the hash key before any work (`tally run`)
        self.run_id = run_id or new_run_id()
        self.started = datetime.now(UTC)
        # None: the run works in the warehouse itself, in one transaction (`run_ingest`).
        self.aside: Path | None = swap.aside_path(warehouse, self.run_id) if aside else None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._behind: WriteBehind | None = None  # a flush still being written (`write_behind`)
        self._broken: BaseException | None = None  # what a flush written behind raised
        self.key: str | None = None
        self.readers: ReaderPool | None = None
        self.published = False

    @property
    def con(self) -> duckdb.DuckDBPyConnection | None:
        """The run's connection, once the flush written behind (if any) is done with it.

        Raises what that flush raised, and again at every later use: its transaction holds part
        of a flush, so nothing may go on to commit it; the run fails, and `discard_connection`
        closes it.
        """
        self.settle()
        if self._broken is not None:
            raise self._broken
        return self._con

    @con.setter
    def con(self, con: duckdb.DuckDBPyConnection | None) -> None:
        self.settle()
        self._con = con

    def write_behind(self, work: Callable[[duckdb.DuckDBPyConnection], None]) -> None:
        """Run `work` on the connection in a thread while the run goes on; the next use of `con` waits.

        For a flush that is not the last (issue 16): DuckDB compresses and writes its rows while
        the next rows are read, parsed and checked, which need no connection (the run's one
        thread did both in turn, on one of the two cores). Only one at a time.
        """
        self.settle()
        self._behind = WriteBehind(work, self._con)

    def settle(self, *, quiet: bool = False) -> None:
        """Wait for the flush written behind, if any; raise what it raised unless `quiet`."""
        behind = self._behind
        if behind is None:
            return
        behind.thread.join()  # forgotten only once done: an interrupt here leaves it to be waited for
        self._behind = None
        if behind.error is not None:
            self._broken = behind.error
            if not quiet:
                raise behind.error

    def discard_connection(self) -> None:
        """Wait for any flush written behind, then close the connection (its transaction is
        rolled back with it), whatever that flush raised; for a run that failed."""
        self.settle(quiet=True)
        con, self._con = self._con, None
        if con is not None:
            with contextlib.suppress(duckdb.Error):
                con.close()

    def ingest_state(self) -> IngestRun:
        """Return the state the extract functions take, counting into a summary of its own."""
        return IngestRun(lambda: self.con, self.inbox, RunSummary(run_id=self.run_id), self.started, self.key,
                         self.readers)


class WriteBehind:
    """`work(con)` running in a thread of its own; what it raised is kept in `error`."""

    def __init__(self, work: Callable[[duckdb.DuckDBPyConnection], None], con: duckdb.DuckDBPyConnection) -> None:
        self.error: BaseException | None = None

        def run() -> None:
            try:
                work(con)
            except BaseException as exc:  # raised in the run's own thread by `Context.settle`
                self.error = exc

        self.thread = threading.Thread(target=run, name="tally-write-behind", daemon=True)
        self.thread.start()


# Test hook


def pause_point(stage: str) -> None:
    """Wait here while a test asks to (TALLY_TEST_PAUSE_AT), so that it can kill or watch the run."""
    wanted = os.environ.get(PAUSE_ENV, "")
    if stage not in wanted.split(","):
        return
    marker = os.environ.get(PAUSE_MARKER_ENV)
    if not marker:
        while True:
            time.sleep(1)
    Path(marker).write_text(f"{stage} {os.getpid()}\n")
    while Path(marker).exists():  # the test removes the marker to let the run go on
        time.sleep(0.02)
