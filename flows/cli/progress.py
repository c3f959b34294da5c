"""What `tally run` shows while it works: the stage, files done of the files to read, rows read.

The stages and their names come from `flows.run.stages` (each `Stage` has its Chinese and
English name); this module only watches them. `RunProgress.call` runs each stage (it is the
`call` hook of `flows.run.stages.run`) and `RunProgress.file` is told each file as it is read.

On a terminal the display is a rich progress bar that is redrawn in place and gone at the
end; elsewhere (a pipe, a log file, cron, CI) it is plain lines, one when a stage begins and
one after each batch of files is read, never wrapped and with no terminal codes, so that a log
keeps one line per event.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from flows.cli.output import visible
from flows.run.results import Discovered, Extracted
from flows.run.stages import EXTRACT, STAGES, Stage


class RunProgress:
    """Count a run's files and rows as its stages go, and show them on `console`.

    Use it as a context manager around the run; pass `call` and `file` to `run_pipeline`
    (`call=` and `progress=`). `files_total` is known once `discover` has listed the new files.
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live = console.is_terminal
        self.stage: Stage | None = None
        self.files_done = 0
        self.files_total: int | None = None
        self.rows = 0
        self.current = ""  # the file being read, as the terminal may show it
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> RunProgress:
        if self.live:
            self._bar = Progress(
                TextColumn("{task.fields[stage]}", markup=False), BarColumn(), MofNCompleteColumn(),
                TextColumn("文件 files · {task.fields[rows]} 行 rows", markup=False),
                TimeElapsedColumn(), TextColumn("{task.description}", markup=False),
                console=self.console, transient=True)  # fmt: skip
            self._bar.__enter__()
            self._task = self._bar.add_task("", total=None, stage="", rows=0)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    # The hooks the run calls

    def call(self, stage: Stage, *args: Any) -> Any:
        """Run one stage (the run's `call` hook), showing it as it begins and counting what it returns."""
        if stage is not self.stage:
            self.stage = stage
            self.current = ""
            if not self.live and stage is not EXTRACT:  # extract says itself, batch by batch
                self.line(self.stage_words())
        self.show()
        result = stage.run(*args)
        if isinstance(result, Discovered):
            self.files_total = len(result.sources)
        elif isinstance(result, Extracted):
            self.rows += result.rows_read
            if not self.live:
                self.line(f"{self.stage_words()}: {self.counts()}")
        self.show()
        return result

    def file(self, rel: str) -> None:
        """Count a file as read (the run's `progress` hook); a terminal shows its path."""
        self.files_done += 1
        self.current = visible(rel)
        self.show(refresh=False)  # the bar redraws itself ten times a second: no redraw per file

    # Words

    def stage_words(self) -> str:
        """Return `阶段 stage 3/9 读取 · extract` for the stage under way (the survey has no number)."""
        stage = self.stage
        if stage is None:
            return ""
        at = next((i for i, s in enumerate(STAGES, 1) if s is stage), None)
        where = f"{at}/{len(STAGES)} " if at is not None else ""
        return f"阶段 stage {where}{stage.label}"

    def counts(self) -> str:
        """Return `文件 files 50/594 · 行 rows 12345`: files read of those to read, rows read so far."""
        total = "?" if self.files_total is None else self.files_total
        return f"文件 files {self.files_done}/{total} · 行 rows {self.rows}"

    def line(self, text: str) -> None:
        """Print one plain line, whole: no wrapping at the console's width, no markup, no colour."""
        self.console.print(Text(visible(text)), soft_wrap=True, highlight=False)

    def show(self, *, refresh: bool = True) -> None:
        """Update the bar with the current stage and counts (on a terminal; elsewhere nothing).

        A stage's start and end are drawn at once, so that even a short stage is seen.
        """
        if self._bar is None or self._task is None:
            return
        self._bar.update(self._task, stage=self.stage_words(), completed=self.files_done,
                         total=self.files_total, rows=self.rows, description=self.current, refresh=refresh)
