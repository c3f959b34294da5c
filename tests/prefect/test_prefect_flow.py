"""The Prefect flow end to end under the test harness, and the schedule that `tally serve` registers."""

from __future__ import annotations

import hashlib
import json
import shlex
import subprocess
import sys

import duckdb
import pytest
from ledgerfiles import write_xlsx
from typer.testing import CliRunner

from flows.cli import app
from flows.run import pipeline
from flows.run.settings import Settings

pytestmark = pytest.mark.prefect

HEADER = ["序号", "检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "执法人员", "检查结果"]


def write_month(inbox, month, people):
    rows = [[i, f"2024-{month:02d}-0{i}", "日常检查", f"场所{i}", "网吧", n, "张三", "未发现问题"]
            for i, n in enumerate(people, 1)]
    write_xlsx(inbox / "inspections" / f"2024-{month:02d}.xlsx", {"S": [HEADER, *rows]})


@pytest.fixture
def site(tmp_path):
    """tally.toml, an inbox of three months (one bad row) and a notify command writing a file."""
    (tmp_path / "inbox").mkdir()
    write_month(tmp_path / "inbox", 3, [2, 3])
    write_month(tmp_path / "inbox", 4, [4, "四个半"])
    write_month(tmp_path / "inbox", 5, [1])
    script = f"import sys; open({str(tmp_path / 'notified.txt')!r}, 'a', encoding='utf-8').write(sys.stdin.read())"
    command = json.dumps(shlex.join([sys.executable, "-c", script]))
    (tmp_path / "tally.toml").write_text(
        f'inbox = "inbox"\nwarehouse = "warehouse/tally.duckdb"\nschedule = "15 3 * * *"\n'
        f'timezone = "Asia/Urumqi"\n[notify]\ncommand = {command}\n', encoding="utf-8")
    return tmp_path


def test_the_flow_loads_publishes_records_and_reports(prefect_harness, site):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from flows.run.prefect_flow import tally_run

    state = tally_run(config=str(site / "tally.toml"), batch_size=2, return_state=True)
    assert state.is_completed(), state.message
    out = state.result()
    assert (out["outcome"], out["files_loaded"], out["rows_loaded"], out["rows_quarantined"]) == (
        "completed", 3, 4, 1)
    with duckdb.connect(str(site / "warehouse" / "tally.duckdb"), read_only=True) as con:
        assert con.execute("SELECT value FROM indicators WHERE year = 2024 AND code = 'inspector_person_times'"
                           ).fetchone()[0] == 10
        assert con.execute("SELECT outcome FROM runs WHERE run_id = ?", [out["run_id"]]).fetchone() == ("completed",)
    assert "隔离 quarantined 1" in (site / "notified.txt").read_text(encoding="utf-8")

    with get_client(sync_client=True) as client:
        flow_run_filter = FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
        tasks = client.read_task_runs(flow_run_filter=flow_run_filter)
        artifacts = {a.key: a for a in client.read_artifacts(flow_run_filter=flow_run_filter)}
    names = sorted(t.name.rsplit("-", 1)[0] for t in tasks)
    assert names.count("extract") == 2  # three files in batches of two
    assert {"open", "discover", "validate", "load", "transform", "check", "finish", "publish"} <= set(names)
    assert all(t.state.is_completed() for t in tasks)
    assert out["run_id"] in artifacts["tally-run-summary"].data
    table = artifacts["tally-indicators-2024"].data
    rows = json.loads(table) if isinstance(table, str) else table
    assert {"code": "inspector_person_times", "value": 10.0} in [{k: r[k] for k in ("code", "value")} for r in rows]


def test_a_failing_flow_publishes_nothing_but_reports(prefect_harness, site):
    from flows.run.prefect_flow import tally_flow, tally_run

    warehouse = site / "warehouse" / "tally.duckdb"
    assert tally_run(config=str(site / "tally.toml"), return_state=True).is_completed()
    published = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    write_month(site / "inbox", 6, [9])
    broken = tally_flow(pipeline.Steps(build_models=lambda con: 1 / 0))
    state = broken(config=str(site / "tally.toml"), return_state=True)
    assert state.is_failed() and "ZeroDivisionError" in state.message
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == published
    assert "失败 · FAILED" in (site / "notified.txt").read_text(encoding="utf-8")


def test_serve_registers_the_nightly_schedule(prefect_harness, site, monkeypatch):
    import prefect
    from prefect.client.orchestration import get_client

    from flows.run.prefect_flow import nightly_deployment

    default = nightly_deployment(Settings()).schedules[0].schedule
    assert (default.cron, default.timezone) == ("0 2 * * *", "Asia/Shanghai")

    served = []
    monkeypatch.setattr(prefect, "serve", lambda *deployments, **options: served.extend(deployments))
    result = CliRunner().invoke(app, ["serve", "--config", str(site / "tally.toml")])
    assert result.exit_code == 0, result.output
    (deployment,) = served
    deployment_id = deployment.apply()  # what serve registers before it starts polling
    with get_client(sync_client=True) as client:
        registered = client.read_deployment(deployment_id)
    schedule = registered.schedules[0].schedule
    assert (schedule.cron, schedule.timezone, registered.schedules[0].active) == ("15 3 * * *", "Asia/Urumqi", True)
    assert registered.entrypoint == "flows.run.prefect_flow.tally_run"
    assert registered.parameters["warehouse"] == str((site / "warehouse" / "tally.duckdb").resolve())
    assert registered.parameters["config"] == str((site / "tally.toml").resolve())


def test_commands_that_do_not_need_prefect_do_not_import_it():
    code = "import sys; import flows.cli, flows.run.pipeline; assert 'prefect' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=600)  # a guard against a hang only
