"""The whole run as `tally run` runs it, and how a run is told to people.

The stages themselves, their order and their results are `flows.run.stages`; `run_pipeline`
is that order under the run lock with the settings' defaults, and the Prefect flow
(`flows.run.prefect_flow`) follows the same order, one task per stage.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

from flows.run.settings import Settings
from flows.run.stages import (
    BATCH_SIZE,
    FLUSH_ROWS,
    PAUSE_ENV,
    PAUSE_MARKER_ENV,
    PAUSE_POINTS,
    Call,
    Check,
    Context,
    RunFailed,
    RunOptions,
    RunResult,
    Steps,
    call_directly,
    failures_of,
    run,
)

__all__ = ["BATCH_SIZE", "FLUSH_ROWS", "PAUSE_ENV", "PAUSE_MARKER_ENV", "PAUSE_POINTS", "RunFailed",
           "RunResult", "Steps", "failures_of", "notification_text", "notify_run", "run_pipeline", "summary_markdown",
           "summary_text"]  # fmt: skip


# The whole run


def run_pipeline(
    inbox: Path,
    warehouse: Path,
    *,
    year: int | None = None,
    steps: Steps | None = None,
    checks: Sequence[Check] | None = None,
    settings: Settings | None = None,
    lock_wait: float | None = None,
    batch_size: int | None = None,
    progress: Callable[[str], None] | None = None,
    flush_rows: int | None = None,
    memory_limit: str | None = None,
    max_file_mb: float | None = None,
    file_timeout_s: float | None = None,
    reader_memory_mb: int | None = None,
    call: Call | None = None,
    check_key: bool = False,
) -> RunResult:
    """Run every stage under the run lock and publish; raise RunFailed (logged) if one fails.

    What is not given comes from `settings` (default: the settings schema's defaults);
    `checks` replaces the suites of `steps` (`checks=()` runs none). `call(stage, *args)`, if
    given, runs each stage (it must call `stage.run(*args)` and return its result): how
    `tally run` shows which stage the run is in. `check_key`: the survey refuses the hash key
    (KeyRefused) before any work, as `tally run` asks.
    """
    settings = settings or Settings()
    steps = steps or Steps()
    if checks is not None:
        steps = dataclasses.replace(steps, checks=tuple(checks))
    options = RunOptions.from_settings(
        settings, year=year, batch_size=batch_size, flush_rows=flush_rows, memory_limit=memory_limit,
        max_file_mb=max_file_mb, file_timeout_s=file_timeout_s, reader_memory_mb=reader_memory_mb)
    ctx = Context(inbox, warehouse, options=options, steps=steps, progress=progress, check_key=check_key)
    return run(ctx, wait=settings.lock_wait if lock_wait is None else lock_wait, call=call or call_directly)


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
    from flows.report.markdown import md_text  # paths and reasons quote ledger text: never markup

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


def notify_run(result: RunResult, *, command: tuple[str, ...] | str | None, webhook: str | None,
               attempts: int | None = None) -> list[str]:
    """Send the run's summary through the configured hooks when it needs attention."""
    if not (command or webhook) or (result.outcome == "completed" and not result.notice):
        return []  # a completed run tells only what is new since the last notification
    from flows.publish import notify  # urllib and http.client: only when there is something to send

    options = {} if attempts is None else {"attempts": attempts}
    return notify.notify(result.payload(), notification_text(result), command=command, webhook=webhook,
                         **options)


def notification_text(result: RunResult) -> str:
    """Return what the notify hooks are given: the run's summary, then what is new for each unit.

    A failed run has published nothing: its summary says why. A completed run's new notices
    (`flows.report.notices`) name units, ledgers and checks in Chinese; the summary's own list
    of rejected files and check codes is left out, the notices say them once.
    """
    if result.outcome != "completed" or not result.notice:
        return summary_text(result)
    head = summary_text(dataclasses.replace(result, failed_checks=(), summary=dataclasses.replace(
        result.summary, rejected=[])))
    return (f"{head}\n\n新情况（每项只通知一次）· new since the last notification:\n{result.notice}\n\n"
            "详见 tally problems 与 tally completeness · see tally problems and tally completeness")
