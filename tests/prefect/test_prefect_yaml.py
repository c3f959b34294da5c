"""prefect.yaml names flows that exist, and says what `tally serve` serves: the nightly run, or the lake's three."""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from flows.cli import app
from flows.run.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def deployments() -> dict[str, dict]:
    data = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    return {d["name"]: d for d in data["deployments"]}


def flow_at(entrypoint: str):
    """The object an entrypoint (`path/to/file.py:name`) names, loaded as `prefect deploy` would."""
    path, name = entrypoint.split(":")
    assert (ROOT / path).is_file(), entrypoint
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    return getattr(module, name)


def test_prefect_yaml_names_the_four_deployments_and_their_flows():
    from prefect import Flow

    from flows.run import lake_flows

    found = deployments()
    assert list(found) == ["nightly", "county-load", "build", "maintenance"]
    flows = {name: flow_at(d["entrypoint"]) for name, d in found.items()}
    assert all(isinstance(f, Flow) for f in flows.values())
    assert (flows["county-load"], flows["build"], flows["maintenance"]) == (
        lake_flows.county_load, lake_flows.build, lake_flows.maintenance)
    assert {d["work_pool"]["name"] for d in found.values()} == {"tally"}
    # county-load needs its county with each run; the others need nothing.
    county = inspect.signature(flows["county-load"].fn).parameters["county"]
    assert county.default is inspect.Parameter.empty
    # One build and one upkeep at a time; county loads are bounded by their own limits instead.
    assert {n: d.get("concurrency_limit", {}).get("limit") for n, d in found.items()} == {
        "nightly": 1, "county-load": None, "build": 1, "maintenance": 1}
    # The schedules are tally.toml's defaults, the ones `tally serve` would use.
    defaults = Settings()
    assert [(s["cron"], s["timezone"]) for s in found["build"]["schedules"]] == [(defaults.schedule, defaults.timezone)]
    assert [(s["cron"], s["timezone"]) for s in found["maintenance"]["schedules"]] == [
        (defaults.maintenance_schedule, defaults.timezone)]
    assert "schedules" not in found["county-load"]


@pytest.mark.prefect
def test_serve_serves_the_lakes_three_deployments_for_a_lake(prefect_harness, tmp_path, monkeypatch):
    import prefect
    from prefect.client.orchestration import get_client

    (tmp_path / "inbox").mkdir()
    (tmp_path / "tally.toml").write_text(
        'inbox = "inbox"\nwarehouse = "ducklake:postgres:dbname=city host=/nonexistent"\nlake_data_path = "lake/data"\n'
        'schedule = "30 1 * * *"\nmaintenance_schedule = "0 5 * * 6"\ntimezone = "Asia/Urumqi"\n', encoding="utf-8")
    served = []
    monkeypatch.setattr(prefect, "serve", lambda *deployments, **options: served.extend(deployments))
    result = CliRunner().invoke(app, ["serve", "--config", str(tmp_path / "tally.toml")])
    assert result.exit_code == 0, result.output
    assert [d.name for d in served] == ["county-load", "build", "maintenance"]
    registered = {}
    with get_client(sync_client=True) as client:
        for deployment in served:
            registered[deployment.name] = client.read_deployment(deployment.apply())
    schedules = {name: [(s.schedule.cron, s.schedule.timezone) for s in d.schedules] for name, d in registered.items()}
    assert schedules == {"county-load": [], "build": [("30 1 * * *", "Asia/Urumqi")],
                         "maintenance": [("0 5 * * 6", "Asia/Urumqi")]}
    assert {name: d.entrypoint for name, d in registered.items()} == {
        "county-load": "flows.run.lake_flows.county_load", "build": "flows.run.lake_flows.build",
        "maintenance": "flows.run.lake_flows.maintenance"}
    limits = {name: d.global_concurrency_limit and d.global_concurrency_limit.limit for name, d in registered.items()}
    assert limits == {"county-load": None, "build": 1, "maintenance": 1}
    assert registered["build"].concurrency_options.collision_strategy == "ENQUEUE"
    assert all(d.parameters["config"] == str((tmp_path / "tally.toml").resolve()) for d in registered.values())


def test_lake_settings_are_checked(tmp_path):
    from flows.run.settings import ConfigError, load_settings

    toml = tmp_path / "tally.toml"
    toml.write_text('warehouse = "ducklake:postgres:dbname=city"\nlake_data_path = "lake/data"\n'
                    'lake_commit_slots = 0\nmaintenance_schedule = "weekly"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(toml)
    message = str(caught.value)
    assert "lake_commit_slots 应为 1 到 64 的整数" in message and "实际写的是 0" in message
    assert "maintenance_schedule 应为 cron 表达式" in message and '实际写的是 "weekly"' in message
    toml.write_text('warehouse = "ducklake:postgres:dbname=city"\nlake_data_path = "lake/data"\n'
                    'lake_commit_slots = 8\n', encoding="utf-8")
    settings = load_settings(toml)
    assert (settings.lake_commit_slots, settings.maintenance_schedule) == (8, "0 3 * * 0")


def test_county_load_takes_a_code_as_a_number_or_text():
    """`prefect deployment run … -p county=640422` sends a number: the deployment's schema takes it."""
    import jsonschema
    from prefect.utilities.callables import parameter_schema

    from flows.run.lake_flows import county_load

    schema = parameter_schema(county_load).model_dump_for_openapi()
    for county in (640422, "640422", "西吉县"):
        jsonschema.validate({"county": county}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({}, schema)  # the county is required
