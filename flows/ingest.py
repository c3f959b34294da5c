"""One run over an inbox: find what is new, read it, check it, and load it exactly once.

A run is one DuckDB transaction: if it is interrupted, the warehouse stays as it was before
the run, and the next run finds the same files new and completes the work.
"""

from __future__ import annotations

import hashlib
import os
import stat
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl

from . import readers
from .errors import AccountingError, ReadFailed, Rejected
from .filenames import (
    month_from_sheet,
    period_from_name,
    revision_from_name,
    snapshot_date_from_name,
    year_from_name,
)
from .headers import HeaderMatch, find_header, missing_header_advice
from .isolation import Limits, ReaderPool, readable_here, tasks_of, too_large
from .ledgers import LEDGERS, Ledger, ledger_for_folder
from .masking import mask_free_text, mask_text, mask_texts
from .parse import ParsedSheet, SheetToParse, parse_sheets, quarantine_cells
from .problems import PROBLEM_SCHEMA
from .protect import hash_key, protect
from .validation import ranges_in_suite, validate_ledgers
from .validation import start_run as start_validation_run
from .warehouse import (
    CurrentKey,
    Version,
    connect,
    current_versions,
    insert_frame,
    next_version_id,
    record_versions,
    reserve_version_ids,
    seen_files,
    supersede_many,
    version_record,
)

IGNORED_NAMES = {"thumbs.db", "desktop.ini"}
EMPTY_GRID = pl.DataFrame(schema={"_row": pl.Int32})
HEADER_SCAN_ROWS = 32
# hashlib lets go of the GIL: the inbox is hashed two files at once (reads: flows.isolation).
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


@dataclass(frozen=True)
class Unit:
    """What becomes one file version: a file, or one month's sheet of a yearly workbook."""

    source: SourceFile
    ledger: Ledger
    scope: str
    period: str
    period_start: date
    year: int
    sheet: str | None
    grid: readers.Grid
    revision: int


@dataclass(frozen=True)
class UnitContext:
    """What a row check may know about the sheet it checks."""

    ledger: Ledger
    path: str
    sheet: str | None
    period: str
    period_start: date
    year: int


@dataclass(frozen=True)
class Located:
    """A unit whose header has been found."""

    unit: Unit
    match: HeaderMatch
    header_rows: list[list[str | None]]


@dataclass(frozen=True)
class Prepared:
    """A unit read and parsed, waiting for its checks and its load."""

    unit: Unit
    context: UnitContext
    match: HeaderMatch
    parsed: ParsedSheet
    content_sha256: str


# A check sees every unit of the run at once (so it can batch per ledger) and returns one
# PROBLEM_SCHEMA frame per unit, in the same order.
Check = Callable[[Sequence[Prepared]], list[pl.DataFrame]]


@dataclass
class RunSummary:
    """What one run did, for the closing summary and the `runs` table."""

    run_id: str
    files_loaded: int = 0
    files_unchanged: int = 0
    files_superseded: int = 0
    files_rejected: int = 0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0  # footers, notes, hidden rows and a zero report's 无: read, not loaded
    warnings: int = 0
    rejected: list[tuple[str, str | None, str]] = field(default_factory=list)


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


def ledger_of(source: SourceFile) -> tuple[Ledger, str]:
    """The ledger named by the file's folder, and the scope: the folders above it."""
    parts = source.rel.split("/")
    expected = "、".join(f"{c}（{ledger.name_zh}）" for c, ledger in LEDGERS.items())
    if len(parts) < 2:
        raise Rejected(f"文件不在台账文件夹中，应放在 收件箱/<台账>/ 下，台账文件夹可用：{expected}",
                       rule="unknown_ledger")
    ledger = ledger_for_folder(parts[-2])
    if ledger is None:
        raise Rejected(f"未知的台账文件夹「{parts[-2]}」，应为以下之一：{expected}", rule="unknown_ledger")
    return ledger, "/".join(parts[:-2])


def plan(source: SourceFile) -> list[Unit | tuple[str | None, Rejected]]:
    """Split a file into the units it holds; a unit that cannot load is a (sheet, Rejected)."""
    ledger, scope = ledger_of(source)
    name = Path(source.rel).name
    stem = Path(name).stem
    revision = revision_from_name(stem)
    with source.path.open("rb") as f:
        head = f.read(8)
    kind = readers.file_format(source.path, head)

    if ledger.kind == "snapshot":
        day = snapshot_date_from_name(stem)
        year = day.year if day else year_from_name(stem)
        if year is None:
            raise Rejected(
                f"文件名中找不到日期或年份：{ledger.name_zh}是快照，文件名应带日期，"
                f"例如「{ledger.name_zh}2024-12-31.xlsx」",
                rule="no_period",
            )
        period, start = (day.isoformat(), day) if day else (str(year), date(year, 1, 1))
        grid = first_sheet(source, kind, ledger)
        return [Unit(source, ledger, scope, period, start, year, grid.sheet, grid, revision)]

    ym = period_from_name(stem)
    if ym is not None:
        year, month = ym
        grid = first_sheet(source, kind, ledger)
        return [Unit(source, ledger, scope, f"{year}-{month:02d}", date(year, month, 1), year,
                     grid.sheet, grid, revision)]
    year = year_from_name(stem)
    if year is None or kind == "csv":
        raise Rejected(
            "文件名中找不到所属月份：请在文件名中写明月份，例如「2024-03」「2024年3月」「202403」；"
            "年度工作簿（每月一张工作表）的文件名应带年份，例如「2024年执法检查台账.xlsx」",
            rule="no_period",
        )
    return yearly_units(source, ledger, scope, year, revision)


def first_sheet(source: SourceFile, kind: str, ledger: Ledger) -> readers.Grid:
    """The first visible sheet that has the ledger's header row (a CSV has one sheet)."""
    if kind == "csv":
        grid = readers.csv_grid(readers.read_bytes(source.path))
        return replace(grid, header=(ledger, require_header(grid, ledger)))
    reader = readers.open_workbook(source.path)
    first_failure: Rejected | None = None
    for sheet in readers.sheets(reader, source.path):
        if not sheet.visible:
            continue
        grid = readers.sheet_grid(reader, sheet)
        if grid.frame.height == 0:
            continue
        try:
            return replace(grid, header=(ledger, require_header(grid, ledger)))
        except Rejected as exc:
            first_failure = first_failure or exc
    raise first_failure or Rejected("工作簿中没有可见且有内容的工作表", rule="empty_file")


def yearly_units(source, ledger, scope, year, revision) -> list[Unit | tuple[str | None, Rejected]]:
    """One unit per visible month sheet (1月 … 12月) of a yearly workbook."""
    reader = readers.open_workbook(source.path)
    units: list[Unit | tuple[str | None, Rejected]] = []
    for sheet in readers.sheets(reader, source.path):
        month = month_from_sheet(sheet.name or "")
        if not sheet.visible or month is None:
            continue
        grid = readers.sheet_grid(reader, sheet)
        if grid.frame.height == 0 or all_blank(grid):
            continue  # a month not yet filled in is not a submission
        try:
            grid = replace(grid, header=(ledger, require_header(grid, ledger)))
        except Rejected as exc:
            units.append((sheet.name, exc))
            continue
        units.append(Unit(source, ledger, scope, f"{year}-{month:02d}", date(year, month, 1), year,
                          sheet.name, grid, revision))
    if not units:
        raise Rejected(
            "年度工作簿中没有以月份命名且有内容的工作表（应为「1月」…「12月」或「01」…「12」）",
            rule="no_period",
        )
    return units


def all_blank(grid: readers.Grid) -> bool:
    cols = [c for c in grid.frame.columns if c != "_row"]
    return grid.frame.select(pl.all_horizontal([pl.col(c).str.strip_chars().fill_null("") == "" for c in cols])).to_series().all()


def require_header(grid: readers.Grid, ledger: Ledger):
    """Find the header row or reject, naming the missing headers and the closest row seen."""
    if grid.header is not None and grid.header[0] is ledger:
        return grid.header[1]  # found when the file was planned
    rows = readers.text_rows(grid, HEADER_SCAN_ROWS)
    numbers = grid.frame["_row"].head(HEADER_SCAN_ROWS).to_list()
    found = find_header(rows, numbers, ledger, grid.hidden_columns)
    if found is not None:
        return found, rows
    required = "、".join(f"「{c.header}」" for c in ledger.required)
    where = f"工作表「{grid.sheet}」" if grid.sheet else "文件"
    seen = missing_header_advice(rows, numbers, ledger)
    raise Rejected(f"{where}中找不到{ledger.name_zh}的表头行，必填列为 {required}{seen}", rule="no_header")


def content_sha256(grid: readers.Grid) -> str:
    """A hash of the cells as read, so that a re-saved file with the same cells is unchanged."""
    digest = hashlib.sha256(f"{grid.frame.shape}".encode())
    # Row hashes with fixed seeds: stable for a given polars, far cheaper than writing CSV.
    digest.update(grid.frame.hash_rows(seed=11, seed_1=23, seed_2=37, seed_3=41).to_numpy().tobytes())
    return digest.hexdigest()


def order_key(source: SourceFile) -> tuple:
    """Within a run, a name with a revision marker is later; between equals, the newer mtime."""
    return (revision_from_name(Path(source.rel).stem), source.modified_at, source.rel)


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


# The stages of a run, for callers that orchestrate them one by one (flows.pipeline). They
# run inside the caller's transaction and share one IngestRun.


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

    Files are read in the run's reader processes (`flows.isolation`), bounded in memory and
    time; what is recorded of them is recorded here, in order, on the run's one connection.
    """
    limits = Limits(max_file_mb, file_timeout_s, reader_memory_mb)
    # Verdicts that need no read: an entry that is not a readable regular file, or too large.
    verdicts = {id(s): s.problem or too_large(s.size, limits) for s in sources}
    to_read = [s for s in sources if verdicts[id(s)] is None]
    if to_read and run.readers is None:
        run.readers = ReaderPool(limits, workers=len(tasks_of([s for s in to_read if not readable_here(s)])))
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


def read_ahead(run: IngestRun, sources: Sequence[SourceFile], limits: Limits) -> None:
    """Have the reader processes start on files that `prepare_files` will be given, in order."""
    to_read = [s for s in sources if s.problem is None and too_large(s.size, limits) is None]
    pooled = [s for s in to_read if not readable_here(s)]
    if not pooled:
        return
    if run.readers is None:
        run.readers = ReaderPool(limits, workers=len(tasks_of(pooled)))
    run.readers.prefetch(to_read)


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


@dataclass
class Pending:
    """Rows waiting to be written: masking and inserting once per ledger costs far less.

    The load history is batched too: version ids are taken from the sequence in blocks, the
    loaded version of each (scope, ledger, period) is read once and then kept in step here, and
    `file_versions` rows and supersessions are written at the flush. All of it stays inside the
    run's transaction, so an interrupted run still leaves nothing behind.
    """

    rows: dict[str, list[pl.DataFrame]] = field(default_factory=dict)
    # Per ledger, (version_id, sheet, height) of each frame in `rows`: the lineage columns are
    # added once per flush, not once per unit (a per-unit with_columns cost ~0.8 ms a unit).
    lineage: dict[str, list[tuple[int, str | None, int]]] = field(default_factory=dict)
    problems: list[pl.DataFrame] = field(default_factory=list)
    quarantined: list[pl.DataFrame] = field(default_factory=list)
    skipped: list[pl.DataFrame] = field(default_factory=list)
    versions: dict[int, dict] = field(default_factory=dict)  # version_id -> file_versions row
    superseded: list[tuple[int, int]] = field(default_factory=list)  # (old, new) already written
    ids: list[int] = field(default_factory=list)  # reserved, unused, in increasing order
    loaded: dict[CurrentKey, tuple[int, str, str]] | None = None  # None until first read

    def reserve(self, con, count: int) -> None:
        """Take `count` more version ids from the sequence at once."""
        self.ids += reserve_version_ids(con, count)

    def next_id(self, con) -> int:
        """Return the next version id: a reserved one, else one from the sequence."""
        return self.ids.pop(0) if self.ids else next_version_id(con)

    def current(self, con, key: CurrentKey) -> tuple[int, str, str] | None:
        """Return the loaded version of (scope, ledger, period): (version_id, content_sha256, path)."""
        if self.loaded is None:
            self.loaded = current_versions(con)
        return self.loaded.get(key)

    def record(self, version: Version, seen_at: datetime) -> None:
        """Queue one row of the load history."""
        self.versions[version.version_id] = version_record(version, seen_at)

    def supersede(self, key: CurrentKey, old_id: int, new: tuple[int, str, str]) -> None:
        """Mark old_id as replaced by the new loaded version of key."""
        queued = self.versions.get(old_id)
        if queued is not None:  # loaded earlier in this batch: not written yet
            queued["status"], queued["superseded_by"] = "superseded", new[0]
        else:
            self.superseded.append((old_id, new[0]))
        self.loaded[key] = new

    def add_rows(self, code: str, rows: pl.DataFrame, version_id: int, sheet: str | None) -> None:
        """Queue one unit's loaded rows for a ledger; its lineage is added at the flush."""
        self.rows.setdefault(code, []).append(rows)
        self.lineage.setdefault(code, []).append((version_id, sheet, rows.height))

    def ledger_rows(self, code: str) -> pl.DataFrame:
        """Return a ledger's queued rows as one frame, with `_version_id` and `_sheet` added."""
        units = pl.DataFrame(
            self.lineage[code], orient="row",
            schema={"_version_id": pl.Int64, "_sheet": pl.Utf8, "_n": pl.UInt32},
        ).filter(pl.col("_n") > 0)  # fmt: skip
        repeat = pl.int_range(pl.len()).repeat_by(pl.col("_n")).explode(empty_as_null=False)
        lineage = units.select(pl.col("_version_id", "_sheet").gather(repeat))
        # Not rechunked: a copy of the batch would raise the run's peak memory for no gain.
        rows = pl.concat(self.rows[code], how="vertical")
        return rows.hstack(lineage.get_columns())

    def flush(self, con, key: str) -> None:
        """Mask and insert everything pending, then forget it."""
        for code in self.rows:
            insert_frame(con, code, protect(self.ledger_rows(code), LEDGERS[code], key), schema="raw")
        if self.problems:
            problems = pl.concat(self.problems, how="vertical")
            # Defence in depth: a raw value or message of a column not marked personal may
            # still hold an ID or a phone.
            insert_frame(con, "problems", problems.with_columns(mask_free_text(pl.col("raw_value")),
                                                                mask_free_text(pl.col("message"))))
        if self.quarantined:
            insert_frame(con, "quarantined_rows", pl.concat(self.quarantined, how="vertical"))
        if self.skipped:
            insert_frame(con, "skipped_rows", pl.concat(self.skipped, how="vertical"))
        record_versions(con, list(self.versions.values()))
        supersede_many(con, self.superseded)
        self.rows, self.lineage, self.problems, self.quarantined, self.skipped = {}, {}, [], [], []
        self.versions, self.superseded = {}, []


def close_run(con, summary: RunSummary, outcome: str, message: str | None) -> None:
    con.execute(
        """
        UPDATE runs SET ended_at = ?, outcome = ?, files_loaded = ?, files_unchanged = ?,
            files_superseded = ?, files_rejected = ?, rows_loaded = ?, rows_quarantined = ?,
            warnings = ?, message = ?
        WHERE run_id = ?
        """,
        [datetime.now(UTC), outcome, summary.files_loaded, summary.files_unchanged,
         summary.files_superseded, summary.files_rejected, summary.rows_loaded,
         summary.rows_quarantined, summary.warnings, message, summary.run_id],
    )  # fmt: skip


def reject(con, source: SourceFile, summary: RunSummary, exc: Rejected, seen_at: datetime, *,
           ledger: Ledger | None = None, sheet: str | None = None, period: str | None = None,
           period_start: date | None = None, pending: Pending | None = None) -> None:
    """Record a file (or sheet) that loads nothing, with its reason (queued in `pending` if given).

    It keeps the ledger and period its folder and name give, so that it is listed under the
    year it belongs to; a `ReadFailed` is recorded with its cause, and read again next run.
    """
    if period is None:
        named, period, period_start = name_period(source, sheet)
        ledger = ledger or named
    queue = pending or Pending()
    reason = mask_text(exc.reason)  # a reason may quote a cell: never an ID or a phone in clear
    queue.record(Version(
        version_id=queue.next_id(con), run_id=summary.run_id, path=source.rel,
        scope=scope_of(source.rel), ledger=ledger.code if ledger else None, period=period,
        period_start=period_start, sheet=sheet, sha256=source.sha256, content_sha256=None,
        size=source.size, modified_at=source.modified_at,
        revision=revision_from_name(Path(source.rel).stem), status="rejected", reason=reason,
        failure=exc.cause if isinstance(exc, ReadFailed) else None,
    ), seen_at)  # fmt: skip
    if pending is None:
        record_versions(con, list(queue.versions.values()))
    summary.files_rejected += 1
    summary.rejected.append((source.rel, sheet, reason))


def name_period(source: SourceFile, sheet: str | None = None) -> tuple[Ledger | None, str | None, date | None]:
    """The ledger, period and period start that a file's folder and name (and sheet) give."""
    ledger = safe_ledger(source)
    if ledger is None:
        return None, None, None
    stem = Path(source.rel).stem
    if ledger.kind == "snapshot":
        day = snapshot_date_from_name(stem)
        if day is not None:
            return ledger, day.isoformat(), day
        year = year_from_name(stem)
        return (ledger, str(year), date(year, 1, 1)) if year else (ledger, None, None)
    ym = period_from_name(stem)
    if ym is not None:
        return ledger, f"{ym[0]}-{ym[1]:02d}", date(ym[0], ym[1], 1)
    year = year_from_name(stem)
    if year is None:
        return ledger, None, None
    month = month_from_sheet(sheet) if sheet else None  # a month sheet of a yearly workbook
    if month is not None:
        return ledger, f"{year}-{month:02d}", date(year, month, 1)
    return ledger, str(year), date(year, 1, 1)


def scope_of(rel: str) -> str:
    return "/".join(rel.split("/")[:-2])


# What reading a file gave: the exception that stopped it, or per unit its Located, a
# (sheet, Rejected) that plan made, or a (Unit, Exception) that locate raised.
FileRead = Exception | list["Located | tuple[str | None, Rejected] | tuple[Unit, Exception]"]


def read_file(source: SourceFile) -> FileRead:
    """Plan one file and find each unit's header, touching no warehouse (safe in a thread)."""
    try:
        units = plan(source)
    except Exception as exc:  # recorded by record_read, on the run's connection
        return exc
    out: list = []
    for unit in units:
        if isinstance(unit, tuple):
            out.append(unit)
            continue
        try:
            out.append(locate(unit))
        except Exception as exc:
            out.append((unit, exc))
    return out


def record_read(con, source: SourceFile, read: FileRead, summary: RunSummary,
                seen_at: datetime) -> list[Located]:
    """Record the rejections of one file's read, in order, and return its located units."""
    if isinstance(read, Rejected):
        reject(con, source, summary, read, seen_at, ledger=safe_ledger(source))
        return []
    if isinstance(read, Exception):  # anything unexpected: say which file and why, and go on
        reason = f"读取文件时发生意外错误：{type(read).__name__}: {read}（下次运行会重新读取）"
        reject(con, source, summary, ReadFailed(reason, rule="unexpected", cause="unexpected"),
               seen_at, ledger=safe_ledger(source))
        return []
    prepared = []
    for item in read:
        if isinstance(item, Located):
            prepared.append(item)
        elif isinstance(item[0], Unit):
            reject_unit(con, item[0], summary, item[1], seen_at)
        else:
            sheet, exc = item
            reject(con, source, summary, exc, seen_at, ledger=safe_ledger(source), sheet=sheet)
    return prepared


def reject_unit(con, unit: Unit, summary: RunSummary, exc: Exception, seen_at: datetime, *,
                pending: Pending | None = None) -> None:
    if isinstance(exc, Rejected):  # a ReadFailed keeps its cause: it is read again next run
        failure = exc if isinstance(exc, ReadFailed) else Rejected(exc.reason, rule="unexpected")
    else:
        failure = ReadFailed(f"处理时发生意外错误：{type(exc).__name__}: {exc}（下次运行会重新读取）",
                             rule="unexpected", cause="unexpected")
    reject(con, unit.source, summary, failure, seen_at,
           ledger=unit.ledger, sheet=unit.sheet, period=unit.period, period_start=unit.period_start,
           pending=pending)


def safe_ledger(source: SourceFile) -> Ledger | None:
    try:
        return ledger_of(source)[0]
    except Rejected:
        return None


def locate(unit: Unit) -> Located:
    """Find the header of one unit."""
    match, header_rows = require_header(unit.grid, unit.ledger)
    return Located(unit, match, header_rows[: match.first_data_index])


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


def load_unit(con, prep: Prepared, problems: pl.DataFrame, summary: RunSummary, *, key: str,
              seen_at: datetime, pending: Pending | None = None) -> None:
    """Load one checked unit (masked), superseding the version it replaces.

    With `pending`, its rows are queued there and written when the caller flushes it.
    """
    queue = pending or Pending()
    unit, parsed, digest = prep.unit, prep.parsed, prep.content_sha256
    ledger, source = unit.ledger, unit.source
    version_id = queue.next_id(con)
    base = dict(
        version_id=version_id, run_id=summary.run_id, path=source.rel, scope=unit.scope,
        ledger=ledger.code, period=unit.period, period_start=unit.period_start, sheet=unit.sheet,
        sha256=source.sha256, content_sha256=digest, size=source.size,
        modified_at=source.modified_at, revision=unit.revision,
    )  # fmt: skip
    slot = (unit.scope, ledger.code, unit.period)
    current = queue.current(con, slot)
    if current is not None and current[1] == digest:
        queue.record(Version(**base, status="unchanged",
                             reason=f"内容与已载入的「{current[2]}」相同"), seen_at)
        summary.files_unchanged += 1
        if pending is None:
            queue.flush(con, key)
        return

    # Most units have no problem at all: skip the filters (each costs ~0.1 ms on an empty frame).
    bad_rows = problems.filter(pl.col("severity") == "error")["_row"].unique() if problems.height else None
    if bad_rows is not None and bad_rows.len():
        loaded = parsed.rows.filter(~pl.col("_row").is_in(bad_rows.implode()))
        quarantined = quarantine_cells(parsed, bad_rows)
    else:  # the usual case: no need to scan the sheet twice more
        loaded, quarantined = parsed.rows, pl.DataFrame()
    skipped = parsed.skipped.height
    if loaded.height + quarantined.height + skipped != parsed.rows_read:
        raise AccountingError(
            f"{source.rel} {unit.sheet or ''}: 读取 {parsed.rows_read} 行，"
            f"载入 {loaded.height} 行 + 隔离 {quarantined.height} 行 + 跳过 {skipped} 行，账目不符，本次运行不发布"
        )

    queue.add_rows(ledger.code, loaded, version_id, unit.sheet)
    if problems.height:
        queue.problems.append(problems.rename({"_row": "row"}).with_columns(
            pl.lit(version_id, pl.Int64).alias("version_id"),
            pl.lit(source.rel).alias("path"),
            pl.lit(unit.sheet, pl.Utf8).alias("sheet"),
        ))  # fmt: skip
    if skipped:
        queue.skipped.append(parsed.skipped.rename({"_row": "row"}).with_columns(
            pl.lit(version_id, pl.Int64).alias("version_id"),
            pl.lit(unit.sheet, pl.Utf8).alias("sheet"),
        ))  # fmt: skip
    if quarantined.height:
        queue.quarantined.append(quarantined.rename({"_row": "row"}).with_columns(
            pl.lit(version_id, pl.Int64).alias("version_id"),
            pl.lit(unit.sheet, pl.Utf8).alias("sheet"),
        ))  # fmt: skip
    queue.record(Version(
        **base, status="loaded", rows_read=parsed.rows_read, rows_loaded=loaded.height,
        rows_quarantined=quarantined.height, rows_skipped=skipped, zero_report=parsed.zero_report,
        ignored_columns=tuple(mask_texts(list(prep.match.ignored))),  # headers as written: mask them too
    ), seen_at)  # fmt: skip
    if current is not None:
        queue.supersede(slot, current[0], (version_id, digest, source.rel))
        summary.files_superseded += 1
    else:
        queue.loaded[slot] = (version_id, digest, source.rel)
    summary.files_loaded += 1
    summary.rows_read += parsed.rows_read
    summary.rows_loaded += loaded.height
    summary.rows_quarantined += quarantined.height
    summary.rows_skipped += skipped
    if problems.height:
        summary.warnings += problems.filter(pl.col("severity") == "warning").height
    if pending is None:
        queue.flush(con, key)

