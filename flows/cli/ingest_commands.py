"""`tally run` and `tally files`: run the pipeline on the inbox, and show every file version ever seen."""

from __future__ import annotations

from typing import Annotated

import polars as pl
import typer

from flows.cli.app import app
from flows.cli.file_summary import summarise_files, summary_table, whole_list_hint
from flows.cli.output import (
    ConfigOption,
    ContractOption,
    InboxOption,
    WarehouseOption,
    console,
    emit,
    looked_where,
    out,
    reading,
    say,
    settings,
)
from flows.cli.progress import RunProgress
from flows.errors import TallyError
from flows.load.loader import RunSummary
from flows.privacy.protect import KeyRefused, preflight_key
from flows.publish.swap import FolderUnusable, RunInProgress
from flows.report.formats import ListFormat, OutputFormat
from flows.run.pipeline import RunFailed, RunResult, notify_run, run_pipeline
from flows.run.settings import Settings

FILES_SQL = """
SELECT path, ledger, period, sheet, status, rows_read, rows_loaded, rows_quarantined, rows_skipped,
       skipped, reason, sha256, seen_at, version_id, revision, zero_report, ignored_columns
FROM file_versions
LEFT JOIN (
    SELECT version_id, string_agg(n || ' 行' || CASE kind
               WHEN 'filtered' THEN '被筛选隐藏' WHEN 'hidden' THEN '被隐藏'
               WHEN 'note' THEN '为签名或说明行' WHEN 'total' THEN '为合计行'
               ELSE '为零报告的「无」' END || '，未载入', '；' ORDER BY kind) AS skipped
    FROM (SELECT version_id, kind, count(*) AS n FROM skipped_rows GROUP BY ALL)
    GROUP BY version_id
) USING (version_id)
ORDER BY seen_at, path, sheet NULLS FIRST, version_id
"""
# A warehouse written before rows were skipped and counted (read-only: no run has added them yet).
OLD_FILES_SQL = """
SELECT path, ledger, period, sheet, status, rows_read, rows_loaded, rows_quarantined,
       NULL::INTEGER AS rows_skipped, NULL::VARCHAR AS skipped, reason, sha256, seen_at, version_id,
       revision, zero_report, ignored_columns
FROM file_versions
ORDER BY seen_at, path, sheet NULLS FIRST, version_id
"""


LOCK_BUSY_EXIT = 75  # EX_TEMPFAIL: another run holds the lock; nothing was done, try later

WaitOption = Annotated[
    float | None,
    typer.Option("--wait", help="另一次运行进行中时最多等待的秒数 · seconds to wait for a run in progress "
                 "(default: tally.toml lock_wait, else 0)"),
]


@app.command("run")
def run_command(inbox: InboxOption = None, warehouse: WarehouseOption = None, wait: WaitOption = None,
                config: ConfigOption = None, contract: ContractOption = None,
                county: Annotated[str | None, typer.Option(
                    "--county", help="载入湖仓的县（行政区划代码或名称）· the county to load into the lake "
                                     "(GB/T 2260 code or name)")] = None) -> None:
    """载入、计算并发布 · Load what is new, build the figures, publish.

    Loads what is new or changed in the inbox, checks it, builds the figures and publishes
    the warehouse.

    \b
    Example:
        tally run --inbox inbox --warehouse warehouse/tally.duckdb --wait 600
        tally run --county 640422      # a city's or province's lake: one county's folder
    """
    s = settings(config, inbox=inbox, warehouse=warehouse, contract=contract)
    if not s.inbox.is_dir():
        raise typer.BadParameter(looked_where("收件箱目录", s.inbox, "--inbox"), param_hint="--inbox")
    if county is not None:
        run_county_command(s, county)
        return
    lock_wait = wait if wait is not None else s.lock_wait
    try:
        if not s.warehouse.exists():
            preflight_key(s.warehouse)  # before the run lock makes the warehouse's folder
        # Else the survey checks the key on its own read of the warehouse, before any work: a
        # check here opened the warehouse a second time for every run (issue 16).
        result = run_with_progress(s.inbox, s.warehouse, lock_wait, s.memory_limit, limits=s.reader_limits)
    except KeyRefused as exc:  # the operator's to fix before any run: exit 2, like a bad setting
        say("哈希密钥不可用 · hash key refused:", exc)
        raise typer.Exit(2) from exc
    except RunInProgress as exc:
        say("", exc, style="yellow")
        raise typer.Exit(LOCK_BUSY_EXIT) from exc
    except FolderUnusable as exc:  # found before any work: a setting to fix, like a bad tally.toml
        say("运行未开始 · run not started:", exc)
        raise typer.Exit(2) from exc
    except RunFailed as exc:
        print_summary(exc.result.summary)
        say("", exc)
        warn_notify(notify_run(exc.result, command=s.notify_command, webhook=s.notify_webhook))
        raise typer.Exit(1) from exc
    except TallyError as exc:
        say("运行失败 · run failed:", exc)
        raise typer.Exit(1) from exc
    print_summary(result.summary)
    if result.message:
        say("", result.message, style="yellow")
    warn_notify(notify_run(result, command=s.notify_command, webhook=s.notify_webhook))


def run_county_command(s, county: str) -> None:
    """`tally run --county`: one county's load into the lake, then the figures built from it."""
    from flows.contract.org_units import UnknownOrgUnit
    from flows.run.lake_run import CountyNotFound, run_county

    try:
        loaded, snapshot = run_county(s, county)
    except (UnknownOrgUnit, CountyNotFound) as exc:
        raise typer.BadParameter(str(exc), param_hint="--county") from exc
    except TallyError as exc:
        say("运行失败 · run failed:", exc)
        raise typer.Exit(1) from exc
    print_summary(loaded.ingested.summary)
    console.print(f"湖仓快照 lake snapshot {snapshot} → {s.warehouse}", markup=False)


def warn_notify(failures: list[str]) -> None:
    """Show notification failures; they never change the exit code."""
    for failure in failures:
        say("通知失败 · notification failed:", failure, style="yellow")


def run_with_progress(inbox, warehouse, lock_wait: float = 0.0, memory_limit: str | None = Settings.memory_limit, *,
                      limits: dict | None = None) -> RunResult:
    """Run the pipeline, showing its stage, files done of those to read and rows read.

    On a terminal, a progress bar; elsewhere, plain lines (`flows.cli.progress`).
    `limits`: the readers' bounds from tally.toml (max_file_mb, file_timeout_s, reader_memory_mb).
    """
    limits = limits or {}
    with RunProgress(console) as shown:
        return run_pipeline(inbox, warehouse, lock_wait=lock_wait, memory_limit=memory_limit, **limits,
                            progress=shown.file, call=shown.call, check_key=True)


def print_summary(summary: RunSummary) -> None:
    """Say what the run did: files loaded, unchanged, superseded, rejected; rows in and out."""
    console.print(  # whole lines, never wrapped at the console's width (a log is read by line)
        f"文件 files: 载入 loaded {summary.files_loaded} · 未变 unchanged {summary.files_unchanged} · "
        f"被替代 superseded {summary.files_superseded} · 退回 rejected {summary.files_rejected}\n"
        f"行 rows: 读取 read {summary.rows_read} · 载入 loaded {summary.rows_loaded} · "
        f"隔离 quarantined {summary.rows_quarantined} · 跳过 skipped {summary.rows_skipped} · "
        f"警告 warnings {summary.warnings}", soft_wrap=True, highlight=False,
    )
    for path, sheet, reason in summary.rejected:
        where = f"{path}（{sheet}）" if sheet else path
        say("退回 rejected", f"{where}: {reason}", style="yellow")


@app.command("files")
def files_command(
    warehouse: WarehouseOption = None,
    fmt: Annotated[ListFormat, typer.Option("--format", "-f", help="输出格式 · output format")] = OutputFormat.table,
    config: ConfigOption = None,
    summary: Annotated[bool, typer.Option(
        "--summary", help="按台账和状态计数，不逐个列出 · counts by ledger and status, not one row per file")] = False,
) -> None:
    """文件版本清单 · Every file version ever seen.

    Each with its status, row counts and reason.

    \b
    Example:
        tally files --format csv > files.csv
        tally files --summary
    """
    s = settings(config, warehouse=warehouse)
    with reading(s.warehouse) as con:
        counted = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'skipped_rows'"
                              ).fetchone()[0]
        frame = con.execute(FILES_SQL if counted else OLD_FILES_SQL).pl()
    if summary:
        counts = summarise_files(frame)
        if fmt is OutputFormat.table:
            out.print(summary_table(counts))
        else:  # the same counts for a script: one header line, English after the line break dropped
            emit(counts.rename(lambda c: c.replace("\n", " ")).with_columns(
                pl.first().str.replace("\n", " ")), fmt.value)
        say("", whole_list_hint(frame), style="")
        return
    if fmt is OutputFormat.table:  # a terminal: the columns a person reads, hashes shortened
        frame = frame.select(
            "path", "sheet", "period", "status", pl.col("rows_read").alias("read"),
            pl.col("rows_loaded").alias("loaded"), pl.col("rows_quarantined").alias("quarantined"),
            # what was skipped, with its count, said where a rejection's reason goes
            pl.concat_str(["reason", "skipped"], separator="；", ignore_nulls=True).alias("reason"),
        )  # fmt: skip
    emit(frame, fmt.value, title="文件版本 · file versions")
