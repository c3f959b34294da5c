"""The inbox: every entry listed, hashed, and ordered for loading; nothing is read here."""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Mapping
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


# How close to the moment a file was hashed its mtime or ctime may be and the stat still be
# trusted next time: a file written again within the same timestamp tick after it was hashed
# keeps the same stat (git calls such an entry "racily clean"). 2 s covers FAT's granularity.
RACY_NS = 2_000_000_000


@dataclass(frozen=True)
class FileStat:
    """What the file system says of a file without reading it: the key of the stat shortcut.

    ctime cannot be set by a user (a copy that restores an old mtime still moves it), so an
    edit that keeps the size and puts the mtime back is still seen; inode and device tell a
    file replaced by another of the same size and times.
    """

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    device: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileStat:
        """The key of an `os.stat_result`."""
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


@dataclass(frozen=True)
class KnownHash:
    """A file's content hash and the stat it was computed at (`hashed_at_ns`: the clock, ns)."""

    stat: FileStat
    sha256: str
    hashed_at_ns: int

    def vouches_for(self, now: FileStat) -> bool:
        """True when a file whose stat is `now` can be taken to hold these bytes unread.

        Only when every field is equal, and the file had not been touched within RACY_NS of
        being hashed (else a write in the same tick would be missed).
        """
        return now == self.stat and max(now.mtime_ns, now.ctime_ns) < self.hashed_at_ns - RACY_NS


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
    # The stat its hash goes with (None for an entry that is not a regular file read whole):
    # recorded by the run (flows.load.inbox_hashes) so that the next listing need not re-read it.
    known: KnownHash | None = None


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


def discover(inbox: Path, known: Mapping[str, KnownHash] | None = None) -> list[SourceFile]:
    """List every entry of the inbox: regular files with their hash, anything else with why it is not read.

    Only regular files inside the inbox are read: a link (to a file or a folder, inside the
    inbox or out of it, dangling or not), a FIFO, a socket or a device is listed with its
    reason and never opened, and linked folders are not walked into.

    `known` (path relative to the inbox → the hash recorded with its stat) is the stat
    shortcut, as git's index and rsync use it: a file whose (size, mtime_ns, ctime_ns, inode,
    device) are those recorded when it was last hashed is taken to have that hash, unread
    (`KnownHash.vouches_for`); any other file is read and hashed.
    """
    known = known or {}
    entries: list[tuple[Path, tuple[str, ...]]] = []
    unlisted: list[OSError] = []  # a folder that could not be listed: said, never skipped silently
    for root, dirs, files in os.walk(inbox, onerror=unlisted.append):  # never into a linked folder
        base = Path(root)
        base_parts = base.relative_to(inbox).parts
        linked = [d for d in dirs if (base / d).is_symlink()]
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in linked)
        for name in [*files, *linked]:
            path = base / name
            rel_parts = (*base_parts, name)
            if not any(p.startswith(".") for p in rel_parts) and not is_ignorable(path):
                entries.append((path, rel_parts))
    entries.sort(key=lambda e: e[1])
    rels = ["/".join(p) for _, p in entries]
    # A file its stat vouches for is listed here, unread; only the others go to the threads
    # (hashlib lets go of the GIL: two files are hashed at once). Handing thousands of files
    # that need no reading through a thread pool cost a run that finds nothing new more than
    # listing them (issue 16).
    listed = [vouched_entry(path, rel, known.get(rel)) for (path, _), rel in zip(entries, rels, strict=True)]
    to_hash = [i for i, entry in enumerate(listed) if entry is None]
    if to_hash:
        with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
            hashed = pool.map(list_entry, [entries[i][0] for i in to_hash], [rels[i] for i in to_hash],
                              [known.get(rels[i]) for i in to_hash])
            for i, entry in zip(to_hash, hashed, strict=True):
                listed[i] = entry
    for exc in unlisted:
        folder = Path(exc.filename or inbox)
        if folder == inbox:
            raise exc  # no inbox to read is the run's failure, not a file's
        listed.append(unreadable_entry(folder, folder.relative_to(inbox).as_posix(), exc))
    return listed


def vouched_entry(path: Path, rel: str, known: KnownHash | None) -> SourceFile | None:
    """The entry as `list_entry` lists it when `known` vouches for its stat (nothing read); else None."""
    if known is None:
        return None
    try:
        st = os.lstat(path)
    except OSError:
        return None  # `list_entry` says why
    if stat.S_ISREG(st.st_mode) and known.vouches_for(FileStat.of(st)):
        return SourceFile(path, rel, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC), known.sha256, known=known)
    return None


def list_entry(path: Path, rel: str, known: KnownHash | None = None) -> SourceFile:
    """One inbox entry as a SourceFile: hashed if it is a regular file, else with its problem.

    A regular file that `known` vouches for (same stat as when it was hashed) is not read.
    """
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
    if known is not None and stat.S_ISREG(st.st_mode) and known.vouches_for(FileStat.of(st)):
        return SourceFile(path, rel, st.st_size, modified, known.sha256, known=known)
    hashed_at = time.time_ns()  # before the read: a write after it moves the ctime past it
    try:
        digest, st = hash_regular(path)
    except OSError as exc:
        return unreadable_entry(path, rel, exc)
    return SourceFile(path, rel, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC), digest,
                      known=KnownHash(FileStat.of(st), digest, hashed_at))


def unreadable_entry(path: Path, rel: str, exc: OSError) -> SourceFile:
    """A file that could not be hashed now: recorded, and read again by the next run."""
    problem = ReadFailed(f"文件暂时无法读取（{exc.strerror or exc}），本次未读取，下次运行会重新读取",
                         rule="unreadable", cause="unreadable")
    return SourceFile(path, rel, 0, datetime.now(UTC), "", problem)


def order_key(source: SourceFile) -> tuple:
    """Within a run, a name with a revision marker is later; between equals, the newer mtime."""
    return (revision_from_name(Path(source.rel).stem), source.modified_at, source.rel)
