"""Write one run's outcome into the warehouse: loaded rows, rejections, the load history, in batches."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from flows.contract import spec
from flows.contract.filenames import (
    revision_from_name,
)
from flows.contract.ledgers import LEDGERS, Ledger
from flows.errors import AccountingError, ReadFailed, Rejected
from flows.extract.inbox import (
    SourceFile,
)
from flows.load.org import with_county
from flows.load.warehouse import (
    CurrentKey,
    Version,
    current_contracts,
    current_versions,
    insert_frame,
    next_version_id,
    record_versions,
    reserve_version_ids,
    supersede_many,
    version_record,
)
from flows.privacy.masking import mask_free_text, mask_text, mask_texts
from flows.privacy.protect import protect

if TYPE_CHECKING:
    from flows.extract.parse import ParsedSheet
    from flows.extract.plan import FileRead, Located, Part, Prepared, Slicing, Unit

# The parser and the plan (and with them the readers: numpy, fastexcel) are imported by the
# functions that record a read or quarantine rows: every run imports this module for
# `RunSummary`, and a run that finds nothing new reads nothing (issue 16).


def quarantine_cells(parsed: ParsedSheet, rows: pl.Series) -> pl.DataFrame:
    """The chosen rows as the clerk wrote them (`flows.extract.parse.quarantine_cells`)."""
    from flows.extract.parse import quarantine_cells as cells

    return cells(parsed, rows)


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
    # The paths counted under each verdict: a workbook of twelve monthly sheets is one file
    # loaded, not twelve (its sheets are still each a version in `file_versions`).
    counted: dict[str, set[str]] = field(default_factory=dict, repr=False)

    def count_file(self, verdict: str, path: str) -> None:
        """Count a file once under a verdict (loaded, unchanged, superseded, rejected), however many sheets."""
        paths = self.counted.setdefault(verdict, set())
        if path not in paths:
            paths.add(path)
            setattr(self, f"files_{verdict}", getattr(self, f"files_{verdict}") + 1)


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
    contracts: dict[CurrentKey, str | None] | None = None  # the loaded versions' contract fingerprints
    # The versions of units loaded in parts whose last part is still to come: their rows are
    # written before their `file_versions` row, and need its scope (the county) meanwhile.
    open: dict[int, dict] = field(default_factory=dict)

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

    def contract_of(self, con, key: CurrentKey) -> str | None:
        """Return the contract fingerprint the loaded version of key was read under (None: unknown)."""
        if self.contracts is None:
            self.contracts = current_contracts(con)
        return self.contracts.get(key)

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

    def forget(self, version_id: int) -> None:
        """Drop what is queued of one version (a unit loaded in parts that is rejected after all)."""
        for code in list(self.rows):
            keep = [i for i, (vid, _, _) in enumerate(self.lineage[code]) if vid != version_id]
            self.rows[code] = [self.rows[code][i] for i in keep]
            self.lineage[code] = [self.lineage[code][i] for i in keep]
            if not keep:
                del self.rows[code], self.lineage[code]
        for name in ("problems", "quarantined", "skipped"):
            setattr(self, name, [f.filter(pl.col("version_id") != version_id) for f in getattr(self, name)])
        self.versions.pop(version_id, None)
        self.open.pop(version_id, None)

    def flush(self, con, key: str) -> None:
        """Mask and insert everything pending, then forget it."""
        self.masked(key).write(con)

    def masked(self, key: str) -> Masked:
        """Mask everything pending into what is to be written, and forget it here.

        The masking (Python and polars) is done by the caller's thread; the writing (DuckDB)
        may then go to another (`flows.run.context.Context.write_behind`).
        """
        frames: list[tuple[str | None, str, pl.DataFrame]] = []
        for code in list(self.rows):
            rows = with_county(self.ledger_rows(code), {**self.open, **self.versions})
            del self.rows[code]  # the unmasked frames go as soon as their masked copy is made
            frames.append(("raw", code, protect(rows, LEDGERS[code], key)))
        if self.problems:
            problems = pl.concat(self.problems, how="vertical")
            # Defence in depth: a raw value or message of a column not marked personal may
            # still hold an ID or a phone.
            frames.append((None, "problems", problems.with_columns(mask_free_text(pl.col("raw_value")),
                                                                   mask_free_text(pl.col("message")))))
        if self.quarantined:
            frames.append((None, "quarantined_rows", pl.concat(self.quarantined, how="vertical")))
        if self.skipped:
            frames.append((None, "skipped_rows", pl.concat(self.skipped, how="vertical")))
        masked = Masked(frames, list(self.versions.values()), self.superseded)
        self.rows, self.lineage, self.problems, self.quarantined, self.skipped = {}, {}, [], [], []
        self.versions, self.superseded, self.open = {}, [], {}
        return masked


@dataclass
class Masked:
    """A flush's masked frames, (schema, table, frame) in the order they are inserted, and its
    load history: the `file_versions` rows and the supersessions (old, new)."""

    frames: list[tuple[str | None, str, pl.DataFrame]]
    versions: list[dict]
    superseded: list[tuple[int, int]]

    def write(self, con) -> None:
        """Insert the frames and the load history (in the caller's transaction); each frame is
        let go once it is written."""
        while self.frames:
            schema, table, frame = self.frames.pop(0)
            insert_frame(con, table, frame, schema=schema)
            del frame
        record_versions(con, self.versions)
        supersede_many(con, self.superseded)


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
    from flows.extract.plan import name_period, scope_of

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
        contract=spec.active().fingerprint(ledger.code if ledger else None),
    ), seen_at)  # fmt: skip
    if pending is None:
        record_versions(con, list(queue.versions.values()))
    summary.count_file("rejected", source.rel)
    summary.rejected.append((source.rel, sheet, reason))


def located_in(read: FileRead) -> list[Located]:
    """Return the located units of one file's read (none if the read was rejected)."""
    from flows.extract.plan import Located

    if isinstance(read, Exception):
        return []
    return [item for item in read if isinstance(item, Located)]


def rejects_any(read: FileRead) -> bool:
    """Whether one file's read holds a rejection to record (`record_read` records nothing else)."""
    from flows.extract.plan import Located

    return isinstance(read, Exception) or not all(isinstance(item, Located) for item in read)


def record_read(con, source: SourceFile, read: FileRead, summary: RunSummary, seen_at: datetime) -> None:
    """Record the rejections of one file's read, in order (its located units: `located_in`)."""
    from flows.extract.plan import Located, Unit, safe_ledger

    if isinstance(read, Rejected):
        reject(con, source, summary, read, seen_at, ledger=safe_ledger(source))
        return
    if isinstance(read, Exception):  # anything unexpected: say which file and why, and go on
        reason = f"读取文件时发生意外错误：{type(read).__name__}: {read}（下次运行会重新读取）"
        reject(con, source, summary, ReadFailed(reason, rule="unexpected", cause="unexpected"),
               seen_at, ledger=safe_ledger(source))
        return
    for item in read:
        if isinstance(item, Located):
            continue
        if isinstance(item[0], Unit):
            reject_unit(con, item[0], summary, item[1], seen_at)
        else:
            sheet, exc = item
            reject(con, source, summary, exc, seen_at, ledger=safe_ledger(source), sheet=sheet)


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


def load_unit(con, prep: Prepared, problems: pl.DataFrame, summary: RunSummary, *, key: str,
              seen_at: datetime, pending: Pending | None = None, quarantine=quarantine_cells) -> None:
    """Load one checked unit (masked), superseding the version it replaces.

    With `pending`, its rows are queued there and written when the caller flushes it.
    `quarantine` takes the parsed sheet and the bad rows and returns their cells as written.
    """
    queue = pending or Pending()
    unit, parsed, digest = prep.unit, prep.parsed, prep.content_sha256
    ledger, source = unit.ledger, unit.source
    part = prep.part
    if part is not None and part.slicing.verdict in ("unchanged", "rejected"):
        return  # an earlier part of the unit decided: nothing of it loads
    if part is not None and part.slicing.version_id is not None:
        version_id = part.slicing.version_id
    else:
        version_id = queue.next_id(con)
    base = dict(
        version_id=version_id, run_id=summary.run_id, path=source.rel, scope=unit.scope,
        ledger=ledger.code, period=unit.period, period_start=unit.period_start, sheet=unit.sheet,
        sha256=source.sha256, content_sha256=digest, size=source.size,
        modified_at=source.modified_at, revision=unit.revision,
        contract=spec.active().fingerprint(ledger.code),
    )  # fmt: skip
    slot = (unit.scope, ledger.code, unit.period)
    current = queue.current(con, slot)
    # The same cells read under another contract may read differently (an alias added): read anew.
    same_contract = queue.contract_of(con, slot) in (None, base["contract"])
    if part is not None and not part.first:
        current = part.slicing.current  # read when the first part loaded (the whole grid's digest)
    elif current is not None and current[1] == digest and same_contract:
        queue.record(Version(**base, status="unchanged",
                             reason=f"内容与已载入的「{current[2]}」相同"), seen_at)
        summary.count_file("unchanged", source.rel)
        if part is not None:
            part.slicing.verdict, part.slicing.version_id = "unchanged", version_id
        if pending is None:
            queue.flush(con, key)
        return

    # Most units have no problem at all: skip the filters (each costs ~0.1 ms on an empty frame).
    bad_rows = problems.filter(pl.col("severity") == "error")["_row"].unique() if problems.height else None
    if bad_rows is not None and bad_rows.len():
        loaded = parsed.rows.filter(~pl.col("_row").is_in(bad_rows.implode()))
        quarantined = quarantine(parsed, bad_rows)
    else:  # the usual case: no need to scan the sheet twice more
        loaded, quarantined = parsed.rows, pl.DataFrame()
    skipped = parsed.skipped.height
    if loaded.height + quarantined.height + skipped != parsed.rows_read:
        raise AccountingError(
            f"{source.rel} {unit.sheet or ''}: 读取 {parsed.rows_read} 行，"
            f"载入 {loaded.height} 行 + 隔离 {quarantined.height} 行 + 跳过 {skipped} 行，账目不符，本次运行不发布"
        )

    queue.add_rows(ledger.code, loaded, version_id, unit.sheet)
    warnings = problems.filter(pl.col("severity") == "warning").height if problems.height else 0
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
    counts = Counts(parsed.rows_read, loaded.height, quarantined.height, skipped, warnings, parsed.zero_report)
    if part is not None:  # a part: its counts add up, and the last one writes the version
        counts = part_counts(part, counts, version_id, current, queue, unit.scope)
        if counts is None:
            if pending is None:
                queue.flush(con, key)
            return
    queue.record(Version(
        **base, status="loaded", rows_read=counts.read, rows_loaded=counts.loaded,
        rows_quarantined=counts.quarantined, rows_skipped=counts.skipped, zero_report=counts.zero_report,
        ignored_columns=tuple(mask_texts(list(prep.match.ignored))),  # headers as written: mask them too
    ), seen_at)  # fmt: skip
    if current is not None:
        queue.supersede(slot, current[0], (version_id, digest, source.rel))
        summary.count_file("superseded", source.rel)
    else:
        queue.loaded[slot] = (version_id, digest, source.rel)
    queue.contracts[slot] = base["contract"]
    summary.count_file("loaded", source.rel)
    summary.rows_read += counts.read
    summary.rows_loaded += counts.loaded
    summary.rows_quarantined += counts.quarantined
    summary.rows_skipped += counts.skipped
    summary.warnings += counts.warnings
    if pending is None:
        queue.flush(con, key)


@dataclass(frozen=True)
class Counts:
    """What a unit (or a part of one) read, loaded, quarantined, skipped and warned of."""

    read: int
    loaded: int
    quarantined: int
    skipped: int
    warnings: int
    zero_report: bool


def part_counts(part: Part, counts: Counts, version_id: int, current, queue: Pending, scope: str) -> Counts | None:
    """Add a part's counts to its unit's; the unit's totals at its last part, else None (more to come)."""
    slicing = part.slicing
    if part.first:
        slicing.verdict, slicing.version_id, slicing.current = "loaded", version_id, current
    slicing.rows_read += counts.read
    slicing.rows_loaded += counts.loaded
    slicing.rows_quarantined += counts.quarantined
    slicing.rows_skipped += counts.skipped
    slicing.warnings += counts.warnings
    slicing.zero_report = slicing.zero_report and counts.zero_report
    slicing.flushed = True  # its rows are queued now, written at this flush
    if not part.last:
        queue.open[version_id] = {"scope": scope}
        return None
    queue.open.pop(version_id, None)
    return Counts(slicing.rows_read, slicing.rows_loaded, slicing.rows_quarantined, slicing.rows_skipped,
                  slicing.warnings, slicing.zero_report)


def reject_sliced(con, slicing: Slicing, exc: Exception, summary: RunSummary, seen_at: datetime, *,
                  pending: Pending | None = None) -> None:
    """Reject a unit loaded in parts when one part cannot be parsed or checked: none of its rows load.

    Rows of its earlier parts written already (to the aside copy, in this run) are deleted
    again, and those still queued are dropped; the unit is then recorded as rejected, once.
    """
    if slicing.verdict == "rejected":
        return
    if slicing.version_id is not None and slicing.verdict == "loaded":
        if pending is not None:
            pending.forget(slicing.version_id)
        delete_version_rows(con, slicing.unit.ledger.code, slicing.version_id)
    slicing.verdict = "rejected"
    reject_unit(con, slicing.unit, summary, exc, seen_at, pending=pending)


def delete_version_rows(con, code: str, version_id: int) -> None:
    """Delete what this run wrote of one version: its ledger rows, problems, quarantined and skipped rows."""
    # imported here, on this rare path: the module's import lines are left as they are
    from flows.load.ddl import quote

    con.execute(f"DELETE FROM raw.{quote(code)} WHERE _version_id = ?", [version_id])
    for table in ("problems", "quarantined_rows", "skipped_rows"):
        con.execute(f"DELETE FROM {table} WHERE version_id = ?", [version_id])
