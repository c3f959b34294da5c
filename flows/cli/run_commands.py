"""`tally serve` and `tally runs`: run the pipeline nightly, and list the runs so far."""

from __future__ import annotations

import os
import signal
from datetime import datetime
from pathlib import Path
from typing import Annotated

import duckdb
import polars as pl
import typer

from flows.cli.app import app
from flows.cli.output import (
    ConfigOption,
    InboxOption,
    WarehouseOption,
    console,
    data,
    emit,
    looked_where,
    out,
    say,
    settings,
    unreadable,
)
from flows.cli.runs_table import pick_run, print_run, print_runs
from flows.errors import TallyError
from flows.load.warehouse import connect
from flows.publish import swap as publish
from flows.report.formats import ListFormat, OutputFormat
from flows.run.settings import find_config

RUNS_SQL = f"SELECT {', '.join(publish.RUN_COLUMNS)} FROM runs"
TIMES = ("started_at", "ended_at")
UTC_TIME = pl.Datetime("us", "UTC")
RUN_SCHEMA = {
    "run_id": pl.String, "started_at": UTC_TIME, "ended_at": UTC_TIME, "inbox": pl.String,
    "outcome": pl.String, "files_loaded": pl.Int64, "files_unchanged": pl.Int64,
    "files_superseded": pl.Int64, "files_rejected": pl.Int64, "rows_loaded": pl.Int64,
    "rows_quarantined": pl.Int64, "warnings": pl.Int64, "message": pl.String,
}  # fmt: skip


@app.command("serve")
def serve_command(
    inbox: InboxOption = None,
    warehouse: WarehouseOption = None,
    config: ConfigOption = None,
    name: Annotated[str, typer.Option("--name", help="每晚运行的 Prefect 部署名（单文件仓库）· the nightly "
                                      "deployment's name (a single-file warehouse)")] = "nightly",
    port: Annotated[int, typer.Option("--port", help="无 PREFECT_API_URL 时本地 Prefect 服务的端口 · "
                                      "port of the local Prefect server started when PREFECT_API_URL is unset")] = 4200,
) -> None:
    """按计划定时运行 · Run on the schedule until stopped.

    The schedule is tally.toml's `schedule` in its `timezone`. A city's or province's lake
    (warehouse = "ducklake:postgres:…") serves county-load (per county, on demand), build
    (on `schedule`) and maintenance (on `maintenance_schedule`) instead.
    Uses the Prefect server named by PREFECT_API_URL; without one, runs a local server meanwhile.

    \b
    Example:
        tally serve --config /srv/tally/tally.toml
    """
    s = settings(config, inbox=inbox, warehouse=warehouse)
    import prefect  # Prefect only for the commands that need it

    from flows.run.prefect_flow import nightly_deployment, prefect_api

    if s.lake is not None:
        # The lake's flows; not the nightly one, which would write a single-file warehouse
        # where the build puts the lake's figures.
        from flows.run.lake_flows import lake_deployments

        deployments = lake_deployments(s, config=config or find_config())
        serving = (f"湖仓：county-load、build（cron「{s.schedule}」）、maintenance（cron「{s.maintenance_schedule}」）"
                   f"，{s.timezone} · serving the lake's county-load, build and maintenance")
    else:
        deployments = [nightly_deployment(s, name=name, config=config or find_config())]
        serving = f"按 cron「{s.schedule}」（{s.timezone}）定时运行 · serving on cron '{s.schedule}' in {s.timezone}"
    own_server = not os.environ.get("PREFECT_API_URL")
    # SIGTERM (systemd, `kill`) stops the serve like Ctrl+C does: the runner shuts down and the
    # local server is stopped after it, instead of the process dying with the server orphaned.
    previous = signal.signal(signal.SIGTERM, stop_serving)
    try:
        with prefect_api(port) as api:
            console.print(data(f"{serving} via {api}; Ctrl+C to stop"))
            # A temporary server goes away with us: pausing its deployments first only waits on it.
            prefect.serve(*deployments, pause_on_shutdown=not own_server)
    except TallyError as exc:
        say("", exc)
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    console.print(data("已停止 · stopped"))


def stop_serving(signum: int, frame: object) -> None:
    """Turn SIGTERM into the KeyboardInterrupt that Prefect's runner shuts down on."""
    raise KeyboardInterrupt


def runs_frame(warehouse: Path, timezone: str = "Asia/Shanghai") -> pl.DataFrame:
    """Return every run: those in the warehouse's `runs`, then those only in the runs log.

    `problems` adds up what a clerk should look at: rejected files, quarantined rows, warnings.
    """
    frames = []
    known: set[str] = set()
    if warehouse.exists():
        with connect(warehouse, read_only=True) as con:
            table = con.execute(RUNS_SQL).pl()
        known = set(table["run_id"])
        frames.append(table.with_columns(pl.col(TIMES).dt.convert_time_zone("UTC")).cast(RUN_SCHEMA))
    held = publish.lock_is_held(warehouse)
    logged = []
    for record in publish.logged_runs(warehouse).values():
        if record["run_id"] in known:
            continue
        row = {k: record.get(k) for k in publish.RUN_COLUMNS}
        row.update({k: datetime.fromisoformat(row[k]) if row[k] else None for k in TIMES})
        if row["outcome"] == publish.UNFINISHED and not held:
            row["outcome"] = publish.INTERRUPTED  # its process is gone: it holds no lock
        logged.append(row)
    if logged:
        frames.append(pl.DataFrame(logged, schema=RUN_SCHEMA))
    if not frames:
        return pl.DataFrame(schema={**RUN_SCHEMA, "problems": pl.Int64})
    return pl.concat(frames).sort("started_at").with_columns(
        pl.col(TIMES).dt.convert_time_zone(timezone).dt.strftime("%Y-%m-%d %H:%M:%S"),
        problems=pl.sum_horizontal("files_rejected", "rows_quarantined", "warnings"),
    )


@app.command("runs")
def runs_command(
    warehouse: WarehouseOption = None,
    fmt: Annotated[ListFormat, typer.Option("--format", "-f", help="输出格式 · output format")] = OutputFormat.table,
    run: Annotated[str | None, typer.Option(
        "--run", help="只看一次运行的全部内容（运行编号或其开头）· one run in full, by its id or the start of it",
        show_default=False)] = None,
    config: ConfigOption = None,
) -> None:
    """运行记录 · Every run so far.

    On a terminal, one line per run: start, outcome, files loaded and rejected, rows, problems
    and as much of the message as fits; --run ID shows one run whole, failed runs included.

    \b
    Examples:
        tally runs
        tally runs --run 20241130T180000
        tally runs --format csv > runs.csv
    """
    s = settings(config, warehouse=warehouse)
    try:
        frame = runs_frame(s.warehouse, s.timezone)
    except TallyError as exc:
        say("", exc)
        raise typer.Exit(1) from exc
    except duckdb.Error as exc:
        raise unreadable(s.warehouse, exc) from exc
    if frame.is_empty() and not s.warehouse.exists():
        say("", looked_where("仓库文件", s.warehouse, "--warehouse"))
        raise typer.Exit(1)
    if run is not None:
        frame = pick_run(frame, run)
        if frame.height != 1:
            ids = "、".join(frame["run_id"].head(5))
            say("没有这次运行 · no such run:" if frame.is_empty() else "不止一次运行 · several runs:",
                f"{run}（{'以此开头的有 ' + ids + ' · ' if ids else ''}运行编号见 tally runs · the ids are in tally runs）")
            raise typer.Exit(1)
        if fmt is OutputFormat.table:
            print_run(frame, out)
            return
    if fmt is OutputFormat.table:
        print_runs(frame, out)
    else:
        emit(frame, fmt.value, title="运行记录 · runs")
