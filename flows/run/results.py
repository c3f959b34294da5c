"""What a run's stages return: frozen results, one per stage, and the run's result.

A stage returns its own counts (a `RunSummary` of what it did); `Ingested.plus` and
`add_summaries` sum them into new objects, so no stage writes into another's result.
"""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from flows.errors import TallyError
from flows.extract.inbox import SourceFile
from flows.load.loader import RunSummary

if TYPE_CHECKING:
    # Only named in annotations: importing them here would import the readers (numpy, fastexcel)
    # and the suites into every run, the one that finds nothing new too (issue 16).
    from flows.extract.plan import Prepared, Slicing
    from flows.validate.sheet_suites import ExpectationTally, Timings


def no_timings() -> Timings:
    """Return the suites' timings of a run that has checked nothing yet (the suites imported now)."""
    from flows.validate.sheet_suites import Timings

    return Timings()


@dataclass(frozen=True)
class Look:
    """What the published warehouse has seen of the inbox (`survey`)."""

    files: tuple[SourceFile, ...] | None = None  # the inbox, hashed once (None: not listed yet)
    unseen: tuple[SourceFile, ...] | None = None  # those the warehouse has not seen
    year: int | None = None  # when nothing is new: the published figures' year and table
    figures: pl.DataFrame | None = None

    @property
    def nothing_new(self) -> bool:
        """True when the inbox was listed and the published warehouse has seen every file."""
        return self.unseen is not None and not self.unseen


@dataclass(frozen=True)
class Opened:
    """The run's aside copy is open and the run is recorded as running in it."""

    run_id: str
    aside: Path | None


@dataclass(frozen=True)
class Discovered:
    """The new files, in load order; the summary counts the unchanged ones."""

    sources: tuple[SourceFile, ...]
    summary: RunSummary


@dataclass(frozen=True)
class Extracted:
    """A batch read and parsed; the summary counts the files and sheets rejected on the way."""

    # A sheet of many rows comes as a `Slicing`: its parts are parsed by the run, one by one.
    prepared: tuple[Prepared | Slicing, ...]
    summary: RunSummary

    @property
    def rows_read(self) -> int:
        """Count the rows read from the batch's sheets parsed so far."""
        from flows.extract.plan import Prepared  # imported by now: the batch was read

        return sum(p.parsed.rows_read for p in self.prepared if isinstance(p, Prepared))


@dataclass(frozen=True)
class Validated:
    """Each unit with its problems (the parser's and the checks'), or the error of a check."""

    prepared: tuple[Prepared, ...]
    problems: tuple[pl.DataFrame | Exception, ...]
    suites: Mapping[str, list[ExpectationTally]] = field(default_factory=dict)
    timings: Timings = field(default_factory=no_timings)


@dataclass(frozen=True)
class Loaded:
    """What a load wrote: its counts."""

    summary: RunSummary


@dataclass(frozen=True)
class Ingested:
    """Everything a run loaded, summed over its batches: counts, the suites' tallies and timings."""

    summary: RunSummary
    suites: Mapping[str, list[ExpectationTally]] = field(default_factory=dict)
    timings: Timings = field(default_factory=no_timings)

    def plus(self, summary: RunSummary | None = None, validated: Validated | None = None) -> Ingested:
        """Return these totals with a stage's counts (and a validation's tallies) added."""
        total = add_summaries(self.summary, summary) if summary is not None else self.summary
        if validated is None:
            return Ingested(total, self.suites, self.timings)
        from flows.validate.sheet_suites import add_timings, merge_suites

        return Ingested(total, merge_suites(dict(self.suites), dict(validated.suites)),
                        add_timings(self.timings, validated.timings))


@dataclass(frozen=True)
class Transformed:
    """The SQL models built, in order."""

    models: tuple[str, ...]


@dataclass(frozen=True)
class Checked:
    """The cross-checks that found something, named."""

    failed: tuple[str, ...]


@dataclass(frozen=True)
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
    suites: Mapping[str, list[ExpectationTally]] = field(default_factory=dict)  # for the Data Docs
    docs: subprocess.Popen | None = None  # the child rendering the Data Docs, once published
    notice: str | None = None  # what is new for the units since the last notification (flows.report.notices)

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
        data["notice"] = self.notice
        return data


class RunFailed(TallyError):
    """A run failed; nothing was published and the failure is in the runs log."""

    def __init__(self, result: RunResult) -> None:
        super().__init__(result.message or "运行失败 · run failed")
        self.result = result


def add_summaries(a: RunSummary, b: RunSummary) -> RunSummary:
    """Return a new summary with the counts of both and the rejections of a, then b.

    A file counted under the same verdict by both (its sheets split over two batches) counts once.
    """
    counts = {f.name: getattr(a, f.name) + getattr(b, f.name)
              for f in dataclasses.fields(RunSummary) if f.name not in ("run_id", "rejected", "counted")}
    counted = {}
    for verdict in a.counted.keys() | b.counted.keys():
        mine, theirs = a.counted.get(verdict, set()), b.counted.get(verdict, set())
        counts[f"files_{verdict}"] -= len(mine & theirs)
        counted[verdict] = mine | theirs
    return RunSummary(run_id=a.run_id, rejected=[*a.rejected, *b.rejected], counted=counted, **counts)
