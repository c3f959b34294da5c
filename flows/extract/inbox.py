"""The inbox: every entry listed, hashed, and ordered for loading; nothing is read here."""

from __future__ import annotations

import hashlib
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flows.contract.filenames import (
    revision_from_name,
)
from flows.errors import ReadFailed, Rejected

IGNORED_NAMES = {"thumbs.db", "desktop.ini"}


# hashlib lets go of the GIL: the inbox is hashed two files at once (reads: flows.extract.isolation).
READ_THREADS = 2


@dataclass(frozen=True)
class SourceFile:
    """A file found in the inbox."""

    path: Path
    rel: str  # relative to the inbox, '/' separated
    size: int
    modified_at: datetime
    sha256: str
    # Why the entry is not read at all (a link, a FIFO, a file that could not be hashed).
    problem: Rejected | None = None


def sha256_file(path: Path) -> str:
    """Hash a file's bytes."""
    return hash_regular(path)[0]


def hash_regular(path: Path) -> tuple[str, os.stat_result]:
    """Hash a regular file without following a link or blocking on a FIFO; raise OSError if it changed."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as f:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise OSError(0, "不是普通文件")
        digest = hashlib.sha256()
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
        after = os.fstat(fd)
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise OSError(0, "文件在读取期间被改动（可能仍在复制中）")
    return digest.hexdigest(), before


def is_ignorable(path: Path) -> bool:
    """Office lock files, hidden files and desktop litter are not submissions."""
    name = path.name
    return name.startswith(("~$", ".")) or name.lower() in IGNORED_NAMES


# What an entry that is not a regular file is, as a clerk would name it.
ODD_KINDS = ((stat.S_ISLNK, "符号链接（快捷方式）"), (stat.S_ISFIFO, "命名管道（FIFO）"),
             (stat.S_ISSOCK, "套接字"), (stat.S_ISCHR, "字符设备"), (stat.S_ISBLK, "块设备"))  # fmt: skip


def discover(inbox: Path) -> list[SourceFile]:
    """List every entry of the inbox: regular files with their hash, anything else with why it is not read.

    Only regular files inside the inbox are read: a link (to a file or a folder, inside the
    inbox or out of it, dangling or not), a FIFO, a socket or a device is listed with its
    reason and never opened, and linked folders are not walked into.
    """
    entries: list[tuple[Path, tuple[str, ...]]] = []
    unlisted: list[OSError] = []  # a folder that could not be listed: said, never skipped silently
    for root, dirs, files in os.walk(inbox, onerror=unlisted.append):  # never into a linked folder
        base = Path(root)
        linked = [d for d in dirs if (base / d).is_symlink()]
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in linked)
        for name in [*files, *linked]:
            path = base / name
            rel_parts = path.relative_to(inbox).parts
            if not any(p.startswith(".") for p in rel_parts) and not is_ignorable(path):
                entries.append((path, rel_parts))
    entries.sort(key=lambda e: e[1])
    # hashlib lets go of the GIL: hash two files at once.
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        listed = list(pool.map(list_entry, [path for path, _ in entries], ["/".join(p) for _, p in entries]))
    for exc in unlisted:
        folder = Path(exc.filename or inbox)
        if folder == inbox:
            raise exc  # no inbox to read is the run's failure, not a file's
        listed.append(unreadable_entry(folder, folder.relative_to(inbox).as_posix(), exc))
    return listed


def list_entry(path: Path, rel: str) -> SourceFile:
    """One inbox entry as a SourceFile: hashed if it is a regular file, else with its problem."""
    try:
        st = os.lstat(path)
    except OSError as exc:  # gone since it was listed
        return unreadable_entry(path, rel, exc)
    modified = datetime.fromtimestamp(st.st_mtime, UTC)
    for is_kind, kind in ODD_KINDS:
        if is_kind(st.st_mode):
            # Stable for the same entry, so that the next run finds it seen; the target of a
            # link is named by nothing a clerk sees, and never opened.
            target = os.readlink(path) if stat.S_ISLNK(st.st_mode) else ""
            digest = hashlib.sha256(f"{kind}\0{target}".encode()).hexdigest()
            problem = Rejected(f"这是{kind}，不是普通文件，不会读取：请把文件本身（.xlsx、.xls 或 .csv）放入收件箱",
                               rule="not_regular_file")
            return SourceFile(path, rel, st.st_size, modified, digest, problem)
    try:
        digest, st = hash_regular(path)
    except OSError as exc:
        return unreadable_entry(path, rel, exc)
    return SourceFile(path, rel, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC), digest)


def unreadable_entry(path: Path, rel: str, exc: OSError) -> SourceFile:
    """A file that could not be hashed now: recorded, and read again by the next run."""
    problem = ReadFailed(f"文件暂时无法读取（{exc.strerror or exc}），本次未读取，下次运行会重新读取",
                         rule="unreadable", cause="unreadable")
    return SourceFile(path, rel, 0, datetime.now(UTC), "", problem)


def order_key(source: SourceFile) -> tuple:
    """Within a run, a name with a revision marker is later; between equals, the newer mtime."""
    return (revision_from_name(Path(source.rel).stem), source.modified_at, source.rel)
