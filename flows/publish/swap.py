"""What a run keeps beside the published warehouse: its lock, its aside copy, and its runs log.

Analysts open the published file read-only at any moment. DuckDB lets no other process open a
file that one process holds for writing, so a run never writes the published file: it copies it
to an aside file in the same folder, works there, checkpoints and closes it, and swaps it in
with `os.replace` (atomic on POSIX; open read-only connections keep reading the old inode). A
run that fails or is killed leaves the published file as it was; its aside file is removed by
the next run.

A run that does not publish cannot record itself in the published file without taking DuckDB's
write lock on it, so every run also appends to a small JSON-lines log beside the warehouse. The
next run that publishes copies the failed and interrupted runs of the log into `runs`, and
`tally runs` shows both.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from flows.errors import TallyError

ASIDE_MARK = ".building-"
RUN_COLUMNS = (
    "run_id", "started_at", "ended_at", "inbox", "outcome", "files_loaded", "files_unchanged",
    "files_superseded", "files_rejected", "rows_loaded", "rows_quarantined", "warnings", "message",
)  # fmt: skip
UNFINISHED = "running"
INTERRUPTED = "interrupted"


class RunInProgress(TallyError):
    """Another run holds the warehouse's run lock."""


class FolderUnusable(TallyError):
    """The warehouse's folder cannot be opened or written: the run did nothing."""


# Paths


def lock_path(warehouse: Path) -> Path:
    """Return the run lock file beside the warehouse."""
    return warehouse.with_name(warehouse.name + ".lock")


def log_path(warehouse: Path) -> Path:
    """Return the runs log beside the warehouse."""
    return warehouse.with_name(warehouse.name + ".runs.jsonl")


def aside_path(warehouse: Path, run_id: str) -> Path:
    """Return the hidden file in the warehouse's folder where a run builds its copy."""
    return warehouse.with_name(f".{warehouse.stem}{ASIDE_MARK}{run_id}{warehouse.suffix}")


def wal_path(database: Path) -> Path:
    """Return DuckDB's write-ahead log of a database file."""
    return database.with_name(database.name + ".wal")


# The run lock


@contextlib.contextmanager
def run_lock(warehouse: Path, *, run_id: str, wait: float = 0.0, poll: float = 0.2) -> Iterator[None]:
    """Hold the warehouse's run lock, waiting at most `wait` seconds; clean what killed runs left.

    The lock is a `flock` on the warehouse's folder itself, opened as a directory: a lock file
    can be deleted while a run holds it, and the next run would then lock a new file and delete
    the first run's aside copy. A folder that holds the warehouse cannot go away under a run.
    The lock file beside the warehouse only names the holder, for the message a waiting run shows.
    """
    path = lock_path(warehouse)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise FolderUnusable(f"仓库目录无法打开：{path.parent}：{exc.strerror or exc}"
                             f" · cannot open the warehouse folder") from exc
    try:
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RunInProgress(busy_message(path, wait)) from None
                time.sleep(poll)
        # The kernel frees the lock itself when the holder dies, even by SIGKILL; descriptors
        # Python opens are not inherited by child processes, so no child keeps it either.
        check_writable(warehouse)
        holder = json.dumps({"run_id": run_id, "pid": os.getpid(),
                             "started_at": datetime.now(UTC).isoformat(timespec="seconds")})
        tmp = path.with_name(path.name + f".{os.getpid()}")
        with contextlib.suppress(OSError):  # only a note: the lock is the folder's
            tmp.write_text(holder)
            os.replace(tmp, path)  # whole, for a reader of the name at any moment
        clean_leftovers(warehouse)  # under the lock: no live run owns any of them
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def check_writable(warehouse: Path) -> None:
    """Raise FolderUnusable unless a run can create files in the warehouse's folder."""
    folder = warehouse.parent
    if warehouse.is_dir():
        raise FolderUnusable(f"仓库路径是一个文件夹：{warehouse}（warehouse 应指向 .duckdb 文件，如 "
                             f"warehouse/tally.duckdb）· the warehouse path is a folder")
    try:  # a real file, not os.access: a read-only mount, an immutable folder and root all agree
        fd, probe = tempfile.mkstemp(prefix=f".{warehouse.name}.probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
        if warehouse.exists():
            with warehouse.open("rb"):
                pass
    except OSError as exc:
        raise FolderUnusable(
            f"仓库目录不可写：{folder}（{exc.strerror or exc}；运行要在其中建立副本并替换仓库文件，"
            f"请让运行 tally 的用户对该目录有写权限）· the warehouse folder is not writable") from exc


def busy_message(path: Path, waited: float) -> str:
    """Say, in Chinese and English, that another run holds the lock, and which."""
    try:
        holder = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        holder = {}
    who = f"（运行 {holder.get('run_id', '?')}，进程 {holder.get('pid', '?')}，开始于 {holder.get('started_at', '?')}）"
    waited_zh = f"等待 {waited:g} 秒后" if waited > 0 else ""
    waited_en = f" after waiting {waited:g} s" if waited > 0 else ""
    return (
        f"另一次运行正在进行{who}，{waited_zh}本次运行未开始，仓库未作任何改动；请稍后再试。"
        f" · Another run is in progress (run {holder.get('run_id', '?')}, pid {holder.get('pid', '?')});"
        f" this run did not start{waited_en} and changed nothing. Try again later."
    )


def lock_is_held(warehouse: Path) -> bool:
    """Tell whether some run holds the warehouse's run lock now."""
    try:
        fd = os.open(warehouse.parent, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


# Build aside and swap (call these only while holding the run lock)


def clean_stale_asides(warehouse: Path) -> list[Path]:
    """Remove the aside files (and their WAL) that killed runs left; return what was removed."""
    pattern = f".{warehouse.stem}{ASIDE_MARK}*"
    removed = []
    for path in sorted(warehouse.parent.glob(pattern)):
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def spill_folder(warehouse: Path) -> Path:
    """Return the folder beside the warehouse where a run's DuckDB spills what memory cannot hold."""
    # Not DuckDB's default `<database>.tmp`: read-only connections of analysts spill there.
    return warehouse.with_name(f".{warehouse.name}.spill")


def clean_leftovers(warehouse: Path) -> list[Path]:
    """Remove what killed runs left (aside files, their WALs, the spill folder); call under the lock."""
    removed = clean_stale_asides(warehouse)
    spill = spill_folder(warehouse)
    if spill.is_dir() and not spill.is_symlink():
        shutil.rmtree(spill, ignore_errors=True)
        removed.append(spill)
    # A holder note or a write probe whose writer died before it renamed or removed it.
    for pattern in (lock_path(warehouse).name + ".*", f".{warehouse.name}.probe-*"):
        for tmp in warehouse.parent.glob(pattern):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def build_aside(warehouse: Path, run_id: str) -> Path:
    """Copy the published warehouse (and any WAL) to a new aside file and return its path."""
    aside = aside_path(warehouse, run_id)
    aside.parent.mkdir(parents=True, exist_ok=True)
    if warehouse.exists():
        shutil.copyfile(warehouse, aside)
        if wal_path(warehouse).exists():  # a warehouse written in place and not checkpointed
            shutil.copyfile(wal_path(warehouse), wal_path(aside))
    return aside


def close_aside(con) -> None:
    """Checkpoint the aside database, so that the file alone holds everything, and close it."""
    con.execute("CHECKPOINT")
    con.close()


def swap(aside: Path, warehouse: Path) -> None:
    """Publish the aside file atomically in place of the warehouse."""
    if wal_path(aside).exists():
        raise TallyError(f"旁建文件仍有未合并的日志，不能发布：{wal_path(aside)}")
    with aside.open("rb") as f:
        os.fsync(f.fileno())
    os.replace(aside, warehouse)
    wal_path(warehouse).unlink(missing_ok=True)  # it belonged to the file just replaced
    dir_fd = os.open(warehouse.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    finally:
        os.close(dir_fd)


def discard_aside(aside: Path) -> None:
    """Remove an aside file and its WAL."""
    aside.unlink(missing_ok=True)
    wal_path(aside).unlink(missing_ok=True)


# The runs log


def jsonable(value: object) -> object:
    """Write a datetime as ISO text; leave other values as they are."""
    return value.isoformat() if isinstance(value, datetime) else value


def append_run(warehouse: Path, record: dict) -> None:
    """Append one run record (the columns of `runs`) to the runs log, durably."""
    line = json.dumps({k: jsonable(record.get(k)) for k in RUN_COLUMNS}, ensure_ascii=False)
    path = log_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as f:
        if f.tell() > 0:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":  # a line cut short by a crash: start a new one
                line = "\n" + line
        f.write((line + "\n").encode("utf-8"))
        f.flush()
        os.fsync(f.fileno())


def logged_runs(warehouse: Path) -> dict[str, dict]:
    """Return the last record of every run in the runs log, by run id, oldest first."""
    path = log_path(warehouse)
    runs: dict[str, dict] = {}
    if not path.exists():
        return runs
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash
        runs[record["run_id"]] = {**runs.get(record["run_id"], {}), **record}
    return runs


def mark_interrupted(warehouse: Path) -> list[str]:
    """Record as interrupted every logged run that never finished; call only under the lock."""
    found = [r for r in logged_runs(warehouse).values() if r.get("outcome") == UNFINISHED]
    for record in found:
        append_run(warehouse, {**record, "outcome": INTERRUPTED,
                               "message": "运行中断（进程被终止），未发布 · the run was killed; nothing was published"})
    return [r["run_id"] for r in found]
