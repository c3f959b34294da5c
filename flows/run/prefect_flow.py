"""The pipeline as a Prefect 3 flow: one task per stage of `flows.run.stages`, in its order.

The tasks are made from the stage list (`STAGES`), and the flow runs the same `stages.run`
as `tally run`, passing a `call` that runs each stage as its task; decorators add retries,
timeouts and logging without changing the logic. Only the I/O stages retry: copying the
warehouse aside, listing the inbox, the swap, the artifacts and the notification. Extracting,
validating, loading and the models do not: they are deterministic, and an extract that cannot
read a file already rejects it with a reason. Files are extracted in batches (one task per
`batch_size` files) so that orchestration costs little per file; see bench/.

The context the tasks share carries a DuckDB connection and the results carry parsed sheets,
so the tasks neither cache nor persist their results, and their arguments are quoted: Prefect
does not walk them looking for futures.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from flows.errors import TallyError
from flows.publish.notify import NotifyError
from flows.run import pipeline, stages
from flows.run.pipeline import RunResult
from flows.run.settings import Settings, load_settings
from flows.run.stages import Context, RunOptions, Stage, Steps

FLOW_NAME = "tally-run"
DEPLOYMENT_NAME = "nightly"
LOCAL = {"cache_policy": NO_CACHE, "persist_result": False}
IO_RETRIES = {"retries": 2, "retry_delay_seconds": [5, 30]}
# Each stage's task: its retries and time-out, for every stage of `stages.STAGES` (the survey is
# a read-only question the flow asks itself, not a task).
TASK_OPTIONS: dict[str, dict[str, Any]] = {
    "open": {**IO_RETRIES, "timeout_seconds": 600},
    "discover": {**IO_RETRIES, "timeout_seconds": 900},
    "extract": {"timeout_seconds": 1800},
    "validate": {"timeout_seconds": 1800},
    "load": {"timeout_seconds": 1800},
    "transform": {"timeout_seconds": 1800},
    "check": {"timeout_seconds": 1800},
    "finish": {"timeout_seconds": 600},
    "publish": {"retries": 3, "retry_delay_seconds": [1, 5, 15], "timeout_seconds": 300},
}


# Tasks: one per stage, made from the stage list


def stage_task(stage: Stage):
    """Return the Prefect task that runs one stage."""
    return task(name=stage.name, **LOCAL, **TASK_OPTIONS[stage.name])(stage.run)


TASKS = {stage.name: stage_task(stage) for stage in stages.STAGES}


def say_after(stage: Stage, result: Any) -> None:
    """Log what a stage did, in the flow's log."""
    logger = get_run_logger()
    if stage is stages.DISCOVER:
        n = len(result.sources)
        logger.info("发现新文件 %d 个 · %d new files", n, n)
    elif stage is stages.EXTRACT:
        for path, sheet, reason in result.summary.rejected:
            logger.warning("退回 · rejected %s%s: %s", path, f"（{sheet}）" if sheet else "", reason)
    elif stage is stages.LOAD:
        s = result.summary
        logger.info("载入 %d 个文件、%d 行，隔离 %d 行 · loaded %d files, %d rows; %d rows quarantined",
                    s.files_loaded, s.rows_loaded, s.rows_quarantined,
                    s.files_loaded, s.rows_loaded, s.rows_quarantined)
    elif stage is stages.CHECK:
        for message in result.failed:
            logger.warning("跨台账核对警告 · cross-check warning: %s", message)


def call_task(stage: Stage, *args: Any) -> Any:
    """Run a stage as its task (a stage without one, such as the survey, runs in the flow)."""
    stage_task_ = TASKS.get(stage.name)
    result = stage_task_(*(quote(a) for a in args)) if stage_task_ else stage.run(*args)
    say_after(stage, result)
    return result


@task(name="artifacts", retries=2, retry_delay_seconds=[2, 10], timeout_seconds=120, **LOCAL)
def artifacts(result: RunResult) -> None:
    """Publish the run's summary (Markdown) and the year's indicators (table) as artifacts."""
    create_markdown_artifact(markdown=pipeline.summary_markdown(result), key="tally-run-summary",
                             description=f"tally run {result.run_id}: {result.outcome}")
    if result.indicators is not None and result.year is not None:
        create_table_artifact(table=result.indicators.to_dicts(), key=f"tally-indicators-{result.year}",
                              description=f"{result.year} 年度指标 · indicators, run {result.run_id}")


@task(name="notify", retries=2, retry_delay_seconds=[10, 60], timeout_seconds=120, **LOCAL)
def notify(result: RunResult, command: tuple[str, ...] | str | None, webhook: str | None) -> None:
    """Send the run's summary through the configured hooks, when it needs attention."""
    failures = pipeline.notify_run(result, command=command, webhook=webhook, attempts=1)
    if failures:
        raise NotifyError("; ".join(failures))


# Flow


def resolve(config: str | None, inbox: str | None, warehouse: str | None) -> Settings:
    """Read tally.toml (the one named, else found from the working folder) and apply overrides."""
    return load_settings(Path(config) if config else None).override(
        inbox=Path(inbox) if inbox else None, warehouse=Path(warehouse) if warehouse else None
    )


def report(result: RunResult, settings: Settings) -> None:
    """Publish the artifacts and send the notification; neither may change the run's outcome."""
    logger = get_run_logger()
    logger.info(pipeline.summary_text(result))
    for step in (artifacts(quote(result), return_state=True),
                 notify(quote(result), settings.notify_command, settings.notify_webhook, return_state=True)):
        if step.is_failed():
            logger.warning("运行后步骤失败 · post-run step failed: %s", step.message)


def tally_flow(steps: Steps | None = None):
    """Return the flow that runs the stages with these collaborators (the tests inject theirs)."""

    def tally_run(
        inbox: str | None = None,
        warehouse: str | None = None,
        year: int | None = None,
        lock_wait: float | None = None,
        batch_size: int = stages.BATCH_SIZE,
        config: str | None = None,
    ) -> dict:
        """Load the inbox, build and check the figures, and publish the warehouse; return the run."""
        settings = resolve(config, inbox, warehouse)
        wait = lock_wait if lock_wait is not None else settings.lock_wait
        options = RunOptions.from_settings(settings, year=year, batch_size=batch_size)
        # Told inside the extract task: its log names each file.
        ctx = Context(settings.inbox, settings.warehouse, options=options, steps=steps,
                      progress=lambda rel: get_run_logger().info("读取 · reading %s", rel))
        result = stages.run(ctx, wait=wait, call=call_task, on_failure=lambda failed: report(failed, settings))
        report(result, settings)
        return result.payload()

    tally_run.__qualname__ = "tally_run"  # where Prefect finds it: flows.run.prefect_flow.tally_run
    return flow(name=FLOW_NAME, log_prints=True, timeout_seconds=4 * 3600)(tally_run)


tally_run = tally_flow()  # what `tally serve` and `prefect deploy` run (its module path is the entrypoint)


# Deployment


def nightly_deployment(settings: Settings, *, name: str = DEPLOYMENT_NAME, config: Path | None = None):
    """Build the deployment that `tally serve` serves: the flow on the nightly cron schedule."""
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    parameters = {"inbox": str(settings.inbox.resolve()), "warehouse": str(settings.warehouse.resolve())}
    if config is not None:
        parameters["config"] = str(config.resolve())
    return tally_run.to_deployment(
        name=name,
        schedules=[Cron(settings.schedule, timezone=settings.timezone)],
        parameters=parameters,
        description="每晚载入台账、计算并发布年度指标 · nightly: load the ledgers, build and publish the figures",
        tags=["tally"],
        entrypoint_type=EntrypointType.MODULE_PATH,
    )


@contextlib.contextmanager
def prefect_api(port: int = 4200, timeout: float = 180.0) -> Iterator[str]:
    """Use the configured Prefect API; else run a local Prefect server meanwhile and use it.

    Serving needs a server whose scheduler creates the scheduled runs. The temporary server
    Prefect starts by itself runs no scheduler, so without PREFECT_API_URL nothing would run.
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if configured := PREFECT_API_URL.value():
        yield configured
        return
    url = f"http://127.0.0.1:{port}/api"
    # Its own session: the Ctrl+C meant for `tally serve` must not kill the server under the
    # runner's shutdown; the server is stopped below, after the runner has let go of it.
    server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                               "--port", str(port)], start_new_session=True,
                              stdin=subprocess.DEVNULL)  # at a terminal it would ask about profiles
    try:
        wait_until_healthy(url, server, timeout)
        os.environ["PREFECT_API_URL"] = url  # for the flow-run processes the runner starts
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def wait_until_healthy(url: str, server: subprocess.Popen, timeout: float) -> None:
    """Wait until the Prefect server answers its health check, or say why it did not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise TallyError(f"本地 Prefect 服务未能启动（退出码 {server.returncode}）· the local Prefect "
                             f"server exited with {server.returncode}; is the port taken? Set PREFECT_API_URL "
                             "to use a running server.")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.5)
    raise TallyError(f"本地 Prefect 服务 {timeout:g} 秒内未就绪 · the local Prefect server was not ready "
                     f"within {timeout:g} s")
