"""Read files in worker processes bounded in memory and time, so that no file can stop a run.

A spreadsheet can make a reader crash, abort the whole process (calamine asks for 550 GB for
one cell at XFD1048550 and aborts when it cannot have it), allocate without bound or hang. Each
file is therefore read by `flows.extract.plan.read_file` in a worker process of a `pebble.ProcessPool`:
the worker holds itself to `reader_memory_mb` of address space (RLIMIT_AS), each task to
`file_timeout_s`, and a worker that dies fails its own task only. The pool starts when the
first file is to be read (a run that finds nothing new never starts it) and lives for the run.

Small CSVs and small .xlsx files are read in the run's own process instead (`read_here`),
where no address-space limit holds, so each is read there only when its bytes alone bound what
reading it costs; a file beyond a bound goes to a worker like any other file (`BoundExceeded`):

- a CSV of at most HERE_MAX_BYTES: its reader is Python and polars over bytes in memory, which
  cannot abort the process (a panic is an exception) or hang; its memory is bounded by its size
  and its grid by HERE_CELLS (a city's big monthly CSVs are read here too, so that an all-CSV
  inbox starts no reader process).
- an .xlsx of at most HERE_BYTES: calamine is given the bytes that were checked, never the
  file again. Its zip must inflate as it declares (`xlsx_marks.inflates_as_declared`: every
  part's stream inflated and ending at its declared size, all parts at most 32 MB, one way to
  read the zip), so no part calamine inflates is larger than what was checked; each sheet must
  carry a reference on every row and cell, none beyond row 99,999 or HERE_CELLS / 100,000
  columns (`xlsx_marks.extent_within`), so calamine's grid stays within HERE_CELLS, and the
  far cell that makes it ask for 550 GB and abort never reaches it here. A sheet calamine would
  read without a scan, or again patched, goes to a worker. Within these bounds calamine's work
  is linear in bytes already in memory: it cannot hang, and a panic is an exception.
- anything else (an .xls: xlrd over BIFF records; a larger or unusual file) is read in a worker.

Handing small files' grids back through a pipe, and starting the fork server and its workers
for them, cost more than reading them (~1.5 CPU-s on the 180 .xlsx files of the 1M bench inbox).

Small files go several to a task, so that the per-task cost (pickling, two pipe hops) stays
small; a task that fails as a whole is retried file by file, and a file whose reader crashed
is read once more alone, in a fresh worker, before its crash counts as a verdict about its
content. A time-out, a file that changed or vanished while it was read, or an unexpected
error is recorded as a `ReadFailed`: not a verdict, the next run reads the file again.
"""

from __future__ import annotations

import atexit
import contextlib
import copyreg
import ctypes
import ctypes.util
import multiprocessing
import multiprocessing.forkserver
import os
import resource
import stat
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from flows.contract import spec
from flows.contract.ledgers import LEDGERS, Ledger
from flows.errors import ReadFailed, Rejected

if TYPE_CHECKING:
    import pebble

# Defaults of the bounds; `tally.toml` keys of the same names override them.
MAX_FILE_MB = 200
FILE_TIMEOUT_S = 300
# Address space, not resident memory: polars reserves ~1.1 GB of it when its threads start,
# so a worker reading a 3-row sheet peaks at 1.7 GB (0.19 GB resident). Measured in a worker
# under this limit: a 67 MB, 1M-row, 12-column .xlsx and a 68 MB, 1M-row CSV both read; a
# 21 MB, 300k-row .xlsx and that CSV read under 2048 too. A far cell or a zip bomb does not.
READER_MEMORY_MB = 3072
WORKERS = 2
THREADS_PER_WORKER = 2
# A task of small files: measured ~4 ms a task beside ~1 ms a small file (see the README).
BATCH_FILES = 16
BATCH_BYTES = 2 << 20  # files above this go alone, and a task holds at most this much

M_ARENA_MAX = -8  # glibc mallopt parameter

# CSVs are read in the run's own process, up to HERE_MAX_BYTES, while their grid
# holds at most HERE_CELLS cells (a 26 MB month of 228k inspections, 12 columns, holds 2.7M);
# two at a time, as polars and hashlib let go of the GIL. Measured on the 1M bench inbox:
# pickling their grids out of the workers and back cost ~0.34 s per 1M rows, more than
# reading them; and at 4M rows in big monthly files (issue 16) a worker holding a 333k-row
# grid and its pickle added ~550 MiB to the run's tree (two readers). A grid beyond
# the bound (one long line over many short ones pads every row) goes to a worker, bounded
# in memory like every other file, and so does a CSV above HERE_MAX_BYTES: reading one holds
# its bytes, their UTF-8 and its grid at once, and a file up to `max_file_mb` (200 MB) would
# take the run's process past 1 GiB unbounded by `reader_memory_mb`.
HERE_CELLS = 8_000_000
HERE_MAX_BYTES = 64 << 20
# .xlsx files read here: up to this size (their zip is inflated and checked in memory first).
HERE_BYTES = 2 << 20
HERE_THREADS = 2
HERE_SUFFIXES = (".csv", ".xlsx")  # see the module's docstring for why each may be read here


@dataclass(frozen=True)
class Limits:
    """The bounds of one run's reads."""

    max_file_mb: float = MAX_FILE_MB
    file_timeout_s: float = FILE_TIMEOUT_S
    reader_memory_mb: int = READER_MEMORY_MB


# Ledgers go by code between processes: the parent gets its own LEDGERS objects back, not copies.
# (A worker reads under the parent's contract: `under_contract`.)
def _ledger_by_code(code: str) -> Ledger:
    return LEDGERS[code]


copyreg.pickle(Ledger, lambda ledger: (_ledger_by_code, (ledger.code,)))

_memory_mb: int | None = None  # set in each worker by `limit_worker`


def limit_worker(memory_mb: int) -> None:
    """Hold this worker process to `memory_mb` of address space (run by pebble in each worker)."""
    global _memory_mb
    _memory_mb = memory_mb
    # polars is not imported yet here. Its thread pool is as wide as the machine, and each
    # thread reserves address space; two workers read side by side, so two threads each do.
    # (A reader forked from a server that imported `reader_server` has both already.)
    os.environ.setdefault("POLARS_MAX_THREADS", str(THREADS_PER_WORKER))
    limit_arenas()
    limit = memory_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def limit_arenas() -> None:
    """Keep glibc to two malloc arenas in this process and the processes it forks."""
    # Every thread's malloc arena reserves 64 MB of address space: two are enough for a reader
    # and leave the limit to what it really reads.
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(ctypes.util.find_library("c")).mallopt(M_ARENA_MAX, 2)


def under_contract(task, contract: tuple[str | None, str | None], sources: Sequence) -> list:
    """Run a task (in a worker) under the parent's contract: the worker may have started under another."""
    if spec.source() != contract:
        spec.use_contract(*contract)
    return task(sources)


def read_batch(sources: Sequence) -> list:
    """Read each file of a task (in a worker): one `FileRead` per file, safe to pickle."""
    return [read_guarded(source) for source in sources]


def warm_up() -> None:
    """Import what a read needs (in a worker), so that the first file does not wait for it.

    A worker forked from the fork server has it already (`reader_server`): then this costs nothing.
    """
    from flows.extract import plan  # noqa: F401


def abort_reader(_sources: Sequence) -> list:
    """Abort the worker as calamine does on a far cell (a task for the tests of crash handling)."""
    os.abort()


def hang_reader(_sources: Sequence) -> list:
    """Never finish, as a reader lost in a huge sheet (a task for the tests of time-outs)."""
    while True:
        time.sleep(60)


def readable_here(source) -> bool:
    """Whether a file is read in the run's own process: a CSV of at most HERE_MAX_BYTES or an .xlsx
    of at most HERE_BYTES (and within the bounds of `read_here`, else a worker reads it after all)."""
    suffix = source.path.suffix.lower()
    if suffix not in HERE_SUFFIXES:
        return False
    return source.size <= (HERE_MAX_BYTES if suffix == ".csv" else HERE_BYTES)


@dataclass(frozen=True)
class Listed:
    """A file as `workers_for` needs to see it: its path and size (no hash)."""

    path: Path
    size: int


def listed(inbox: Path) -> list[Listed]:
    """The inbox's regular files and their sizes, quickly (links and hidden folders not followed)."""
    out = []
    for root, dirs, files in os.walk(inbox):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            with contextlib.suppress(OSError):
                st = os.lstat(os.path.join(root, name))
                if stat.S_ISREG(st.st_mode):
                    out.append(Listed(Path(root, name), st.st_size))
    return out


def workers_for(sources: Sequence) -> int:
    """How many workers a run's files need: none when every one is read here; one when this
    process reads most of the bytes (it parses all the while: one worker keeps up); else two.
    (A worker is forked from the fork server with the readers imported: it costs no import.)"""
    pooled = [s.size for s in sources if not readable_here(s)]
    if not pooled:
        return 0
    here = sum(s.size for s in sources if readable_here(s))
    return 1 if sum(pooled) < here else WORKERS


def read_here(source):
    """Read a small CSV or .xlsx in this process; None when a worker is to read it after all.

    A file beyond the bounds of the module's docstring (`BoundExceeded`), and any failure that
    is no verdict on the content, go to a worker, which reads the file as it reads every other one.
    """
    from .readers import CELL_BOUND

    token = CELL_BOUND.set(HERE_CELLS)
    try:
        read = read_guarded(source)
    finally:
        CELL_BOUND.reset(token)
    return None if failed_unexpectedly(read) else read


def read_guarded(source):
    """Read one file if it is still the regular file that was listed; say why not otherwise."""
    from flows.extract.plan import read_file  # loaded already in a worker (`reader_server`)

    listed = still_listed(source)
    if listed is not None:
        return listed
    try:
        read = read_file(source)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # a Rust panic is a BaseException: it fails this file only
        read = exc
    changed = still_listed(source)  # it changed or vanished while it was read: not a verdict
    return changed if changed is not None else portable(read)


def still_listed(source) -> ReadFailed | None:
    """Tell why the file is no longer readable as it was listed (None when it is)."""
    try:  # O_NONBLOCK: a FIFO swapped in since the listing must not block the read
        fd = os.open(source.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        return ReadFailed(f"文件暂时无法打开（{exc.strerror}），本次未读取，下次运行会重新读取",
                          rule="unreadable", cause="unreadable")
    try:
        st = os.fstat(fd)
    finally:
        os.close(fd)
    if (not stat.S_ISREG(st.st_mode) or st.st_size != source.size
            or datetime.fromtimestamp(st.st_mtime, UTC) != source.modified_at):
        return ReadFailed("文件在读取期间被改动或替换（可能仍在复制中），本次未读取，下次运行会重新读取",
                          rule="changed", cause="changed")
    return None


def portable(read):
    """Turn what a read raised into exceptions that pickle and that the parent can record."""
    if isinstance(read, BaseException):
        return portable_error(read)
    return [(item[0], portable_error(item[1])) if isinstance(item, tuple) else item for item in read]


def portable_error(exc: BaseException) -> Rejected:
    """A Rejected as it is; a MemoryError is a verdict on the content; anything else is retried."""
    if isinstance(exc, Rejected):
        return exc
    if isinstance(exc, MemoryError):
        return Rejected(
            f"读取此文件需要的内存超过上限（{_memory_mb or READER_MEMORY_MB} MB），未读取：文件可能含有"
            "大量空白格式、远离表格的单元格或压缩后极大的内容；请删除表格以外的行列，另存为新文件后重新提交",
            rule="too_much_memory",
        )
    return unexpected(exc)


def unexpected(exc: BaseException) -> ReadFailed:
    """An error that says nothing about the file's content: recorded, and retried next run."""
    return ReadFailed(f"读取文件时发生意外错误（{type(exc).__name__}: {exc}），下次运行会重新读取",
                      rule="unexpected", cause="unexpected")


def crashed(limits: Limits, exc: BaseException) -> Rejected:
    """The verdict on a file whose reader died twice, the second time alone in a fresh worker."""
    code = getattr(exc, "exitcode", None)
    how = f"（退出码 {code}）" if code is not None else ""
    return Rejected(
        f"读取此文件时读取程序异常终止{how}，单独重试仍然如此，未读取：文件可能含有远离表格的单元格"
        f"（例如 XFD1048550）、压缩后极大的内容、需要超过 {limits.reader_memory_mb} MB 内存，或已损坏；"
        "请在 Excel/WPS 中删除表格以外的行列，另存为新的 .xlsx 后重新提交",
        rule="reader_crash",
    )


def timed_out(limits: Limits) -> ReadFailed:
    """A read that took too long: stopped, and tried again by the next run."""
    return ReadFailed(
        f"读取此文件超过 {limits.file_timeout_s:g} 秒仍未完成，已中止，下次运行会重新读取；若一直如此，"
        "文件可能含有大量空白格式或远离表格的单元格，请删除表格以外的行列，另存为新文件后重新提交",
        rule="timeout", cause="timeout",
    )  # fmt: skip


def too_large(size: int, limits: Limits) -> Rejected | None:
    """Reject a file above max_file_mb before it is read (None when it is small enough)."""
    if size <= limits.max_file_mb * (1 << 20):
        return None
    return Rejected(
        f"文件大小 {size / (1 << 20):.1f} MB，超过上限 {limits.max_file_mb:g} MB，未读取："
        "请拆分文件（例如每月一个文件）或删除表格以外的内容后重新提交",
        rule="too_large",
    )


def tasks_of(sources: Sequence) -> list[list]:
    """Group files in order into tasks: small files together, each large file alone."""
    tasks: list[list] = []
    current: list = []
    size = 0
    for source in sources:  # in order: the files are recorded in the order they are read
        alone = source.size > BATCH_BYTES
        if current and (alone or len(current) >= BATCH_FILES or size + source.size > BATCH_BYTES):
            tasks.append(current)
            current, size = [], 0
        current.append(source)
        size += source.size
    if current:
        tasks.append(current)
    return tasks


def failed_unexpectedly(read) -> bool:
    """Tell whether a read holds an error that is worth reading once more alone."""
    if isinstance(read, BaseException):
        return isinstance(read, ReadFailed) and read.cause == "unexpected"
    return any(isinstance(item, tuple) and isinstance(item[1], ReadFailed)
               and item[1].cause == "unexpected" for item in read)


# What the fork server is started with: the readers' environment, then one import for all of them.
SERVER_PRELOAD = ["flows.extract.reader_server"]
SERVER_ENV = {"POLARS_MAX_THREADS": str(THREADS_PER_WORKER), "OPENBLAS_NUM_THREADS": "1"}


def reader_context():
    """The forkserver context, its server importing the readers once for every worker.

    Workers must not be forked from a process that has run polars' or calamine's threads (a
    forked copy of a held lock deadlocks), and spawn would run the caller's `__main__` again
    in every worker. The fork server is a process of its own that imports the readers
    (`reader_server`) and runs nothing: each worker forked from it starts with them loaded,
    instead of importing them on its first task (~0.4 CPU-s a worker). The server is started
    once per process, on the first call; a server already running keeps what it has.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(SERVER_PRELOAD)
    # The workers write to the server's stderr: a reader that aborts prints a Rust backtrace
    # of a hundred lines onto the clerk's terminal. What failed is in the file's reason.
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(2)
    # The server inherits this process's environment when it starts; polars reads its
    # thread count once, when the server imports it. Only keys not set by the user.
    added = {k: v for k, v in SERVER_ENV.items() if k not in os.environ}
    try:
        os.environ.update(added)
        os.dup2(devnull, 2)
        multiprocessing.forkserver.ensure_running()  # started once; inherits this stderr
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
        for key in added:
            os.environ.pop(key, None)
    return context


class ReaderPool:
    """The worker processes that read one run's files; started on first use."""

    def __init__(self, limits: Limits = Limits(), workers: int = WORKERS) -> None:
        self.limits = limits
        # A run of one or two files needs one worker: each one costs a fork and its first reads.
        self.workers = max(1, min(workers, WORKERS))
        self.task = read_batch  # what a worker runs on a task's files (tests make it crash)
        self._pool: pebble.ProcessPool | None = None
        self._ahead: dict[tuple[int, ...], pebble.ProcessFuture] = {}  # queued by `prefetch`, by files

    def warm(self) -> None:
        """Start the workers now and have them import the readers while the caller does other work."""
        for _ in range(self.workers):
            self._started().schedule(warm_up, timeout=self.limits.file_timeout_s)

    def prefetch(self, sources: Sequence) -> None:
        """Queue the workers' tasks of files that `read` will be given, in the same order.

        The run queues the next batch's files before it parses this one, so that the workers
        read while this process parses and loads instead of waiting for the next batch.
        """
        for task in tasks_of([s for s in sources if not readable_here(s)]):
            key = tuple(map(id, task))
            if key not in self._ahead:
                self._ahead[key] = self._schedule(task)

    def _schedule(self, sources: Sequence) -> pebble.ProcessFuture:
        return self._started().schedule(under_contract, args=(self.task, spec.source(), list(sources)),
                                        timeout=self.limits.file_timeout_s)

    def _started(self) -> pebble.ProcessPool:
        if self._pool is None:
            # Imported with the first pool: a run whose files are all read in this process (small
            # CSVs and workbooks) never starts one, and pebble's import (asyncio) cost it 0.1 s.
            import pebble

            self._pool = pebble.ProcessPool(
                max_workers=self.workers, context=reader_context(),
                initializer=limit_worker, initargs=(self.limits.reader_memory_mb,),
            )  # fmt: skip
            atexit.register(self.close, abort=True)
        return self._pool

    def read(self, sources: Sequence) -> Iterator[tuple[object, object]]:
        """Yield (source, FileRead) for every file, in order.

        The workers' tasks are all queued first, then the CSVs are read here meanwhile.
        """
        here = [readable_here(source) for source in sources]
        pooled = self._pooled([s for s, h in zip(sources, here, strict=True) if not h])
        local = self._here([s for s, h in zip(sources, here, strict=True) if h])
        for is_here in here:
            yield next(local) if is_here else next(pooled)

    def _here(self, sources: Sequence) -> Iterator[tuple[object, object]]:
        """Read CSVs in threads of this process, in order; a worker reads what they leave."""
        if not sources:
            return
        with ThreadPoolExecutor(HERE_THREADS) as executor:
            for source, read in zip(sources, executor.map(read_here, sources), strict=True):
                yield source, (self._alone(source) if read is None else read)

    def _pooled(self, sources: Sequence) -> Iterator[tuple[object, object]]:
        """Queue every task of the files now; return an iterator of their reads, in order."""
        tasks = [(task, self._ahead.pop(tuple(map(id, task)), None) or self._schedule(task))
                 for task in tasks_of(sources)]
        return self._results(tasks)

    def _results(self, tasks: list) -> Iterator[tuple[object, object]]:
        from pebble import ProcessExpired  # a task is a pool's: pebble is imported

        for task, future in tasks:
            try:
                reads = future.result()
            except Exception as exc:  # crash, time-out or a result that did not come back
                crashed_once = isinstance(exc, ProcessExpired)
                if len(task) == 1 and not crashed_once:
                    yield task[0], self._failure(exc)
                    continue
                # One file of the task is to blame, and not the others: each alone now. A
                # worker that died counts as the first crash of each; the culprit dies again.
                for source in task:
                    yield source, self._alone(source, crashes=1 if crashed_once else 0)
                continue
            for source, read in zip(task, reads, strict=True):
                yield source, (self._alone(source) if failed_unexpectedly(read) else read)

    def _alone(self, source, crashes: int = 0):
        """Read one file in a task of its own, again in a fresh worker if its reader dies."""
        from pebble import ProcessExpired

        while True:
            try:
                return self._schedule([source]).result()[0]
            except ProcessExpired as exc:
                crashes += 1
                if crashes >= 2:
                    return crashed(self.limits, exc)
            except Exception as exc:
                return self._failure(exc)

    def _failure(self, exc: BaseException):
        if isinstance(exc, FutureTimeout):
            return timed_out(self.limits)
        return unexpected(exc)

    def close(self, *, abort: bool = False) -> None:
        """Stop the workers: at once when aborting, else once their tasks are done."""
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        self._ahead.clear()
        atexit.unregister(self.close)
        if abort:
            pool.stop()
        else:
            pool.close()
        pool.join(timeout=30)

