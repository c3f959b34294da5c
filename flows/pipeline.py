"""The whole run, as plain functions: discover → parse → load → transform → validate → publish.

A run holds the warehouse's run lock, copies the published warehouse aside, does all of its
work in the copy, and swaps the copy in only when everything succeeded (`flows.publish`). The
stages below are called in order by `run_pipeline` (what `tally run` does) and, one task each,
by the Prefect flow in `flows.prefect_flows`; neither caller adds logic of its own.

Validation runs after the models are built because the checks read the staging views and the
indicator tables; it still comes before publishing, so nothing it finds is hidden from the run
summary. Failed cross-checks are reported, not fatal: the figures are published with them.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from . import data_docs, indicators, publish
from .crosschecks import run_cross_checks
from .errors import TallyError
from .ingest import (
    Check,
    IngestRun,
    Prepared,
    RunSummary,
    SourceFile,
    begin_ingest,
    check_and_load,
    checks_for_run,
    close_readers,
    close_run,
    discover,
    find_new,
    new_run_id,
    prepare_files,
    read_ahead,
    run_ingest,
)
from .isolation import Limits, ReaderPool, listed, workers_for
from .masking import mask_text
from .warehouse import DEFAULT_MEMORY_LIMIT, connect, seen_files

BATCH_SIZE = 50  # files per parse task: small enough for progress, large enough to be cheap
# Parsed rows held before they are checked, loaded and committed to the aside copy: bounds a
# run's memory, while each check still sees large batches. Committing there is safe because
# nothing is published before the swap, and a failed run throws the aside copy away; holding
# the whole run in one transaction instead kept every row in memory (1.96 GiB at 4M rows,
# 0.93 GiB when committed per batch).
FLUSH_ROWS = 300_000
PAUSE_ENV = "TALLY_TEST_PAUSE_AT"  # test only: stage name(s), comma separated
PAUSE_MARKER_ENV = "TALLY_TEST_PAUSE_MARKER"  # test only: file that exists while paused
STAGES = ("locked", "aside", "discovered", "parsed", "loaded", "transformed", "validated",
          "checkpointed", "swapped")  # fmt: skip


log = logging.getLogger("tally.pipeline")

class RunFailed(TallyError):
    """A run failed; nothing was published and the failure is in the runs log."""

    def __init__(self, result: RunResult) -> None:
        super().__init__(result.message or "运行失败 · run failed")
        self.result = result


class Run:
    """One run in progress: where it builds, its connection and its ingest state.

    A plain class on purpose: Prefect walks dataclass task arguments looking for futures, and
    this object carries every parsed sheet of the run.
    """

    def __init__(self, inbox: Path, warehouse: Path, run_id: str, year: int | None = None,
                 checks: Sequence[Check] | None = None) -> None:
        self.inbox = inbox
        self.warehouse = warehouse
        self.run_id = run_id
        self.year = year
        self.checks = checks_for_run(default_checks() if checks is None else checks)
        self.started = datetime.now(UTC)
        self.aside = publish.aside_path(warehouse, run_id)
        self.con: duckdb.DuckDBPyConnection | None = None
        self.ingest: IngestRun | None = None
        self.prepared: list[Prepared] = []
        self.models: list[str] = []
        self.failed_checks: list[str] = []
        self.published = False
        self.flush_rows = FLUSH_ROWS
        self.memory_limit: str | None = DEFAULT_MEMORY_LIMIT  # DuckDB's, for the run's connection
        self.limits = Limits()  # each file's size, and its reader's time and memory
        self.readers: ReaderPool | None = None  # started early by start_readers, if at all
        self.discovered: list[SourceFile] | None = None  # the inbox as nothing_new listed it
        self.unseen: list[SourceFile] | None = None  # those of them the warehouse has not seen
        self.to_parse: list[SourceFile] = []  # what discover_new found, in load order
        self.parsed_upto = 0  # how many of them parse_batch was given, batch by batch
        self.docs: subprocess.Popen | None = None  # the child rendering the Data Docs

    @property
    def summary(self) -> RunSummary:
        """Return the ingest summary (empty until the run has begun)."""
        return self.ingest.summary if self.ingest else RunSummary(run_id=self.run_id)


@dataclass
class RunResult:
    """What a run did: for the CLI summary, the runs log, the artifacts and the notification."""

    summary: RunSummary
    inbox: Path
    outcome: str  # completed | failed
    started_at: datetime
    ended_at: datetime
    message: str | None = None
    year: int | None = None
    indicators: pl.DataFrame | None = None
    failed_checks: tuple[str, ...] = ()

    @property
    def run_id(self) -> str:
        """Return the run id."""
        return self.summary.run_id

    @property
    def problems(self) -> int:
        """Count what a clerk should look at: rejected files, quarantined rows, warnings, checks."""
        s = self.summary
        return s.files_rejected + s.rows_quarantined + s.warnings + len(self.failed_checks)

    def record(self) -> dict:
        """Return the run as a row of `runs`."""
        s = self.summary
        return {
            "run_id": s.run_id, "started_at": self.started_at, "ended_at": self.ended_at,
            "inbox": str(self.inbox), "outcome": self.outcome, "files_loaded": s.files_loaded,
            "files_unchanged": s.files_unchanged, "files_superseded": s.files_superseded,
            "files_rejected": s.files_rejected, "rows_loaded": s.rows_loaded,
            "rows_quarantined": s.rows_quarantined, "warnings": s.warnings, "message": self.message,
        }  # fmt: skip

    def payload(self) -> dict:
        """Return the run as JSON-ready data for a webhook."""
        data = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in self.record().items()}
        data["rows_read"] = self.summary.rows_read
        data["rows_skipped"] = self.summary.rows_skipped
        data["problems"] = self.problems
        data["rejected"] = [{"path": p, "sheet": s, "reason": r} for p, s, r in self.summary.rejected]
        data["failed_checks"] = list(self.failed_checks)
        return data


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


# Stages


def default_checks() -> Sequence[Check]:
    """Return the extra checks `run_ingest` makes by default, wherever they are configured."""
    return inspect.signature(run_ingest).parameters["checks"].default


def batches(items: Sequence, size: int = BATCH_SIZE) -> Iterator[Sequence]:
    """Yield consecutive slices of at most `size` items."""
    for start in range(0, len(items), max(size, 1)):
        yield items[start : start + size]


def nothing_new(run: Run) -> RunResult | None:
    """If the published warehouse has seen every file of the inbox, the run's result; else None.

    A run that would find nothing new skips the copy aside and the rebuild: its figures would
    be those already published. It is logged, and the next publishing run carries it into `runs`.
    """
    if not run.warehouse.exists():
        return None
    try:
        with connect(run.warehouse, read_only=True) as con:
            if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'indicators'").fetchone()[0]:
                return None  # never built: build it now
            known = seen_files(con)
            files = discover(run.inbox) if run.inbox.exists() else []
            run.discovered = files  # hashed once: the run goes on with this listing
            run.unseen = [f for f in files if (f.rel, f.sha256) not in known]
            if run.unseen:
                return None
            year = indicator_year(con, run.year)
            table = indicators.indicator_table(con, year) if year is not None else None
    except duckdb.Error:
        return None
    summary = RunSummary(run_id=run.run_id, files_unchanged=len(files))
    result = RunResult(summary, run.inbox, "completed", run.started, datetime.now(UTC),
                       "没有新文件或改动，已发布的数据不变 · nothing new; the published figures stand",
                       year, table)
    publish.append_run(run.warehouse, result.record())
    return result


def start_readers(run: Run) -> None:
    """Start the reader processes while the warehouse is copied aside, if a file may need reading.

    Their start (a process each, importing polars and calamine) then costs a run little.
    """
    # nothing_new listed what is new unless the warehouse is new: then any file may be read.
    # Small CSVs are read in this process (flows.isolation.readable_here): they need no worker.
    files = listed(run.inbox) if run.unseen is None else [f for f in run.unseen if f.problem is None]
    readable = workers_for(files)
    if readable:
        run.readers = ReaderPool(run.limits, workers=readable)
        run.readers.warm()


def open_run(run: Run) -> None:
    """Log the run as running, copy the published warehouse aside and begin the ingest there."""
    pause_point("locked")
    publish.mark_interrupted(run.warehouse)
    publish.clean_stale_asides(run.warehouse)
    publish.append_run(run.warehouse, {"run_id": run.run_id, "started_at": run.started,
                                       "inbox": str(run.inbox), "outcome": publish.UNFINISHED})
    publish.build_aside(run.warehouse, run.run_id)
    pause_point("aside")
    run.con = connect(run.aside, memory_limit=run.memory_limit, temp_directory=spill_path(run))
    run.con.execute("BEGIN TRANSACTION")
    run.ingest = begin_ingest(run.con, run.inbox, run.warehouse, run_id=run.run_id)
    run.ingest.readers = run.readers


def spill_path(run: Run) -> Path:
    """Return the folder where the run's DuckDB spills, emptied of what a killed run left there."""
    # A folder of the run's own: DuckDB's default (`<database>.tmp`) is also where analysts'
    # read-only connections spill, and a run must not empty it under them.
    folder = publish.spill_folder(run.warehouse)
    shutil.rmtree(folder, ignore_errors=True)  # only one run holds the lock: nothing else uses it
    return folder


def discover_new(run: Run) -> list[SourceFile]:
    """Return the inbox's files that the warehouse has not seen, in load order."""
    sources = find_new(run.ingest, run.discovered)
    run.to_parse, run.parsed_upto = sources, 0
    pause_point("discovered")
    return sources


def parse_batch(run: Run, sources: Sequence[SourceFile],
                progress: Callable[[str], None] | None = None) -> int:
    """Read and parse a batch of files into the run; return how many units they hold."""
    limits = run.limits
    # The workers read this batch's files and then the next batch's while this process parses
    # and loads this one (in order: the files are recorded in the order they are read).
    read_ahead(run.ingest, sources, limits)
    read_ahead(run.ingest, next_batch(run, sources), limits)
    prepared = prepare_files(run.ingest, sources, progress, max_file_mb=limits.max_file_mb,
                             file_timeout_s=limits.file_timeout_s,
                             reader_memory_mb=limits.reader_memory_mb)
    run.prepared.extend(prepared)
    if sum(p.parsed.rows_read for p in run.prepared) >= run.flush_rows:
        check_and_load(run.ingest, run.prepared, run.checks)
        run.prepared = []
        commit_batch(run)
    return len(prepared)


def next_batch(run: Run, sources: Sequence[SourceFile]) -> Sequence[SourceFile]:
    """The files after `sources` in discover_new's list, as many (none if `sources` is not its next batch)."""
    at = run.parsed_upto
    if not sources or at + len(sources) > len(run.to_parse) or run.to_parse[at] is not sources[0]:
        return ()
    run.parsed_upto = at + len(sources)
    return run.to_parse[at + len(sources): at + 2 * len(sources)]


def commit_batch(run: Run) -> None:
    """Commit what the run has loaded so far to the aside copy, and go on in a new transaction."""
    run.con.execute("COMMIT")
    run.con.execute("BEGIN TRANSACTION")


def load(run: Run) -> RunSummary:
    """Check every parsed unit and load it (or its rejection) into the aside warehouse."""
    close_readers(run.ingest)  # every file is read: let the reader processes go
    pause_point("parsed")
    check_and_load(run.ingest, run.prepared, run.checks)
    run.con.execute("COMMIT")
    run.prepared = []  # the frames are in the warehouse now
    pause_point("loaded")
    return run.summary


def transform(run: Run) -> list[str]:
    """Build the SQL models (staging, marts, indicators) in the aside warehouse."""
    run.models = indicators.build(run.con)
    pause_point("transformed")
    return run.models


def failures_of(result: object) -> list[str]:
    """Name the failed checks in what `run_cross_checks` returned (a frame or a list).

    flows.crosschecks returns one row per check: check, warnings, passed.
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


def validate(run: Run) -> list[str]:
    """Run the cross-checks on the aside warehouse; return the failed ones."""
    # The Data Docs are written after the swap: they must describe what was published.
    run.failed_checks = failures_of(run_cross_checks(run.con))
    pause_point("validated")
    return run.failed_checks


def indicator_year(con, year: int | None) -> int | None:
    """Return the year asked for, else the latest year with data."""
    if year is not None:
        return year
    found = indicators.years(con)
    return found[-1] if found else None


def finish(run: Run) -> RunResult:
    """Record the run in the aside warehouse, read its figures, checkpoint and close it."""
    con, summary = run.con, run.summary
    carry_logged_runs(con, run.warehouse)
    message = None
    if run.failed_checks:
        n = len(run.failed_checks)
        message = (f"跨台账核对发现警告 {n} 项（数据已载入，详见 tally problems）· "
                   f"{n} cross-checks found warnings (rows loaded; see tally problems)")
    close_run(con, summary, "completed", message)
    year = indicator_year(con, run.year)
    table = indicators.indicator_table(con, year) if year is not None else None
    ended = con.execute("SELECT ended_at FROM runs WHERE run_id = ?", [run.run_id]).fetchone()[0]
    publish.close_aside(con)
    pause_point("checkpointed")
    return RunResult(summary, run.inbox, "completed", run.started, ended.astimezone(UTC), message,
                     year, table, tuple(run.failed_checks))


def carry_logged_runs(con, warehouse: Path) -> None:
    """Copy the failed and interrupted runs of the runs log into `runs`, once each."""
    known = {r[0] for r in con.execute("SELECT run_id FROM runs").fetchall()}
    for record in publish.logged_runs(warehouse).values():
        if record["run_id"] in known or record.get("outcome") == publish.UNFINISHED:
            continue
        values = {k: record.get(k) for k in publish.RUN_COLUMNS}
        columns = ", ".join(publish.RUN_COLUMNS)
        marks = ", ".join("?" for _ in publish.RUN_COLUMNS)
        con.execute(f"INSERT INTO runs ({columns}) VALUES ({marks})", list(values.values()))


def render_docs_quietly(run: Run, folder: Path) -> None:
    """Start rendering this run's GX Data Docs; the docs are a view of the results, never a reason to fail."""
    try:
        run.docs = data_docs.render_later(folder)
    except Exception as exc:
        log.warning("Data Docs 生成失败 · could not build Data Docs in %s: %s", folder, exc)


def publish_run(run: Run, result: RunResult) -> RunResult:
    """Swap the finished aside warehouse in and log the run as completed."""
    if not run.published:  # a retry after the swap only has the log left to write
        publish.swap(run.aside, run.warehouse)
        run.published = True
        pause_point("swapped")
        render_docs_quietly(run, run.warehouse.parent / "docs")
    publish.append_run(run.warehouse, result.record())
    return result


def fail(run: Run, exc: BaseException) -> RunResult:
    """Throw the aside work away, log the run as failed and return its result."""
    if run.ingest is not None:
        close_readers(run.ingest, abort=True)
    if run.readers is not None:
        run.readers.close(abort=True)
    if run.con is not None:
        with contextlib.suppress(duckdb.Error):
            run.con.close()  # an open transaction is rolled back with it
    if not run.published:
        publish.discard_aside(run.aside)
    reason = str(exc) or type(exc).__name__
    if not isinstance(exc, TallyError):
        reason = f"{type(exc).__name__}: {reason}"
    reason = mask_text(reason)  # an error may quote a cell; the runs log and notification keep no ID or phone
    result = RunResult(run.summary, run.inbox, "failed", run.started, datetime.now(UTC),
                       f"运行失败，未发布 · run failed, nothing published: {reason}",
                       run.year, None, tuple(run.failed_checks))
    publish.append_run(run.warehouse, result.record())
    return result


# The whole run


def run_pipeline(
    inbox: Path,
    warehouse: Path,
    *,
    year: int | None = None,
    checks: Sequence[Check] | None = None,
    lock_wait: float = 0.0,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[str], None] | None = None,
    flush_rows: int = FLUSH_ROWS,
    memory_limit: str | None = DEFAULT_MEMORY_LIMIT,
    max_file_mb: float = Limits.max_file_mb,
    file_timeout_s: float = Limits.file_timeout_s,
    reader_memory_mb: int = Limits.reader_memory_mb,
) -> RunResult:
    """Run every stage under the run lock and publish; raise RunFailed (logged) if one fails."""
    run = Run(inbox, warehouse, new_run_id(), year, checks)
    run.flush_rows = flush_rows
    run.memory_limit = memory_limit
    run.limits = Limits(max_file_mb, file_timeout_s, reader_memory_mb)
    with publish.run_lock(warehouse, run_id=run.run_id, wait=lock_wait):
        if (unchanged := nothing_new(run)) is not None:
            return unchanged
        try:
            start_readers(run)
            open_run(run)
            sources = discover_new(run)
            for batch in batches(sources, batch_size):
                parse_batch(run, batch, progress)
            load(run)
            transform(run)
            validate(run)
            return publish_run(run, finish(run))
        except BaseException as exc:
            result = fail(run, exc)
            if isinstance(exc, Exception):
                raise RunFailed(result) from exc
            raise


# Words for people


def summary_text(result: RunResult) -> str:
    """Say what a run did, in Chinese and English, as plain text."""
    s = result.summary
    state = "完成 · completed" if result.outcome == "completed" else "失败 · FAILED"
    lines = [
        f"tally 运行 run {result.run_id}: {state}",
        f"文件 files: 载入 loaded {s.files_loaded} · 未变 unchanged {s.files_unchanged} · "
        f"被替代 superseded {s.files_superseded} · 退回 rejected {s.files_rejected}",
        f"行 rows: 读取 read {s.rows_read} · 载入 loaded {s.rows_loaded} · "
        f"隔离 quarantined {s.rows_quarantined} · 跳过 skipped {s.rows_skipped} · 警告 warnings {s.warnings}",
    ]
    if result.message:
        lines.append(result.message)
    lines += [f"退回 rejected {p}{f'（{sh}）' if sh else ''}: {r}" for p, sh, r in s.rejected]
    lines += [f"核对警告 cross-check warning: {c}" for c in result.failed_checks]
    return "\n".join(lines)


def summary_markdown(result: RunResult) -> str:
    """Write the run's summary as Markdown, for the Prefect artifact."""
    from .report.markdown import md_text  # paths and reasons quote ledger text: never markup

    s = result.summary
    state = "完成 · completed" if result.outcome == "completed" else "**失败 · FAILED**"
    rows = [
        ("结果 outcome", state), ("开始 started", f"{result.started_at:%Y-%m-%d %H:%M:%S %Z}"),
        ("结束 ended", f"{result.ended_at:%Y-%m-%d %H:%M:%S %Z}"),
        ("载入文件 files loaded", s.files_loaded), ("未变 unchanged", s.files_unchanged),
        ("被替代 superseded", s.files_superseded), ("退回 rejected", s.files_rejected),
        ("读取行 rows read", s.rows_read), ("载入行 rows loaded", s.rows_loaded),
        ("隔离行 rows quarantined", s.rows_quarantined), ("跳过行 rows skipped", s.rows_skipped),
        ("警告 warnings", s.warnings),
    ]  # fmt: skip
    out = [f"# tally run `{result.run_id}`", "", "| | |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in rows]
    if result.message:
        out += ["", md_text(result.message)]
    if s.rejected:
        out += ["", "## 退回的文件 · rejected files", ""]
        out += [f"- {md_text(p)}{md_text(f'（{sh}）') if sh else ''}: {md_text(r)}" for p, sh, r in s.rejected]
    if result.failed_checks:
        out += ["", "## 有警告的跨台账核对 · cross-checks with warnings", ""]
        out += [f"- {md_text(c)}" for c in result.failed_checks]
    return "\n".join(out) + "\n"


def notify_run(result: RunResult, *, command: str | None, webhook: str | None,
               attempts: int | None = None) -> list[str]:
    """Send the run's summary through the configured hooks when it needs attention."""
    from . import notify

    if not (command or webhook) or not notify.should_notify(result.record()):
        return []
    options = {} if attempts is None else {"attempts": attempts}
    return notify.notify(result.payload(), summary_text(result), command=command, webhook=webhook,
                         **options)
