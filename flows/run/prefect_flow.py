"""The pipeline as a Prefect 3 flow: each task wraps one stage of `flows.run.pipeline`.

Decorators add retries, timeouts and logging without changing the logic. Only the I/O stages
retry: copying the warehouse aside, reading the inbox, the swap, the artifacts and the
notification. Parsing, loading and the models do not: they are deterministic, and a parse that
cannot read a file already rejects it with a reason. Files are parsed in batches (one task per
`batch_size` files) so that orchestration costs little per file; see bench/.

The run object that the tasks share carries a DuckDB connection and the parsed sheets, so the
tasks neither cache nor persist their results.
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

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows.errors import TallyError
from flows.extract.isolation import Limits
from flows.publish.notify import NotifyError
from flows.publish.swap import run_lock
from flows.run import pipeline
from flows.run.ingest import new_run_id
from flows.run.pipeline import Run, RunFailed, RunResult
from flows.run.settings import Settings, load_settings

FLOW_NAME = "tally-run"
DEPLOYMENT_NAME = "nightly"
LOCAL = {"cache_policy": NO_CACHE, "persist_result": False}


# Tasks


@task(name="build-aside", retries=2, retry_delay_seconds=[5, 30], timeout_seconds=600, **LOCAL)
def open_run(run: Run) -> None:
    """Copy the published warehouse aside and begin the run there."""
    pipeline.open_run(run)


@task(name="discover", retries=2, retry_delay_seconds=[5, 30], timeout_seconds=900, **LOCAL)
def discover(run: Run) -> list:
    """List the inbox's new files."""
    sources = pipeline.discover_new(run)
    get_run_logger().info("发现新文件 %d 个 · %d new files", len(sources), len(sources))
    return sources


@task(name="parse-batch", timeout_seconds=1800, **LOCAL)
def parse_batch(run: Run, sources: list) -> int:
    """Read and parse one batch of files, naming each file in the log."""
    logger = get_run_logger()
    before = len(run.summary.rejected)
    units = pipeline.parse_batch(run, sources, lambda rel: logger.info("读取 · reading %s", rel))
    for path, sheet, reason in run.summary.rejected[before:]:
        logger.warning("退回 · rejected %s%s: %s", path, f"（{sheet}）" if sheet else "", reason)
    return units


@task(name="load", timeout_seconds=1800, **LOCAL)
def load(run: Run) -> None:
    """Check and load every parsed sheet into the aside warehouse."""
    summary = pipeline.load(run)
    get_run_logger().info("载入 %d 个文件、%d 行，隔离 %d 行 · loaded %d files, %d rows; %d rows quarantined",
                          summary.files_loaded, summary.rows_loaded, summary.rows_quarantined,
                          summary.files_loaded, summary.rows_loaded, summary.rows_quarantined)


@task(name="transform", timeout_seconds=1800, **LOCAL)
def transform(run: Run) -> list[str]:
    """Build the SQL models in the aside warehouse."""
    return pipeline.transform(run)


@task(name="validate", timeout_seconds=1800, **LOCAL)
def validate(run: Run) -> list[str]:
    """Run the cross-checks in the aside warehouse."""
    failed = pipeline.validate(run)
    for message in failed:
        get_run_logger().warning("跨台账核对警告 · cross-check warning: %s", message)
    return failed


@task(name="finish", timeout_seconds=600, **LOCAL)
def finish(run: Run) -> RunResult:
    """Record the run, checkpoint and close the aside warehouse."""
    return pipeline.finish(run)


@task(name="publish", retries=3, retry_delay_seconds=[1, 5, 15], timeout_seconds=300, **LOCAL)
def publish(run: Run, result: RunResult) -> RunResult:
    """Swap the aside warehouse in."""
    return pipeline.publish_run(run, result)


@task(name="artifacts", retries=2, retry_delay_seconds=[2, 10], timeout_seconds=120, **LOCAL)
def artifacts(result: RunResult) -> None:
    """Publish the run's summary (Markdown) and the year's indicators (table) as artifacts."""
    create_markdown_artifact(markdown=pipeline.summary_markdown(result), key="tally-run-summary",
                             description=f"tally run {result.run_id}: {result.outcome}")
    if result.indicators is not None and result.year is not None:
        create_table_artifact(table=result.indicators.to_dicts(), key=f"tally-indicators-{result.year}",
                              description=f"{result.year} 年度指标 · indicators, run {result.run_id}")


@task(name="notify", retries=2, retry_delay_seconds=[10, 60], timeout_seconds=120, **LOCAL)
def notify(result: RunResult, command: str | None, webhook: str | None) -> None:
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
    for step in (artifacts(result, return_state=True),
                 notify(result, settings.notify_command, settings.notify_webhook, return_state=True)):
        if step.is_failed():
            logger.warning("运行后步骤失败 · post-run step failed: %s", step.message)


@flow(name=FLOW_NAME, log_prints=True, timeout_seconds=4 * 3600)
def tally_run(
    inbox: str | None = None,
    warehouse: str | None = None,
    year: int | None = None,
    lock_wait: float | None = None,
    batch_size: int = pipeline.BATCH_SIZE,
    config: str | None = None,
) -> dict:
    """Load the inbox, build and check the figures, and publish the warehouse; return the run."""
    settings = resolve(config, inbox, warehouse)
    wait = lock_wait if lock_wait is not None else settings.lock_wait
    run = Run(settings.inbox, settings.warehouse, new_run_id(), year)
    run.memory_limit = settings.memory_limit
    run.limits = Limits(**settings.reader_limits)
    with run_lock(settings.warehouse, run_id=run.run_id, wait=wait):
        if (unchanged := pipeline.nothing_new(run)) is not None:
            report(unchanged, settings)
            return unchanged.payload()
        try:
            pipeline.start_readers(run)
            open_run(run)
            sources = discover(run)
            for batch in pipeline.batches(sources, batch_size):
                parse_batch(run, batch)
            load(run)
            transform(run)
            validate(run)
            result = publish(run, finish(run))
        except BaseException as exc:
            result = pipeline.fail(run, exc)
            report(result, settings)
            if isinstance(exc, Exception):
                raise RunFailed(result) from exc
            raise
    report(result, settings)
    return result.payload()


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
