"""The local fan-out: counties load at once into the lake; one county's failure stops no other."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_lake_load import inspections, lake_query

from flows.load.lake import Lake
from flows.run.fanout import county_fanout, fan_out


def city_inbox(root: Path) -> Path:
    """Three counties of 固原市 with a month each; 彭阳县 (640425) has no folder."""
    inbox = root / "inbox"
    inspections(inbox / "640422" / "inspections" / "2024-03.xlsx", 3, 2, 3)
    inspections(inbox / "640423" / "inspections" / "2024-03.xlsx", 3, 5)
    inspections(inbox / "640424" / "inspections" / "2024-03.xlsx", 3, 1, 1, 1)
    return inbox


@pytest.mark.parametrize("runner", ["process", "thread"])
def test_counties_load_at_once_and_a_failure_is_reported_for_its_county_alone(tmp_path, catalog, runner):
    inbox = city_inbox(tmp_path)
    lake = Lake(f"ducklake:postgres:{catalog}", tmp_path / "lake" / "data")
    seen = []
    outcomes = fan_out(inbox, lake, ["640422", "640425", "640423", "640424"], workers=2, runner=runner,
                       checks=(), on_done=seen.append)
    assert [(o.county, o.ok, o.rows_loaded) for o in outcomes] == [
        ("640422", True, 2), ("640425", False, 0), ("640423", True, 1), ("640424", True, 3)]
    assert outcomes[1].error.startswith("彭阳县（640425）") and "640425/<台账>/<文件>" in outcomes[1].error
    assert sorted(o.county for o in seen) == ["640422", "640423", "640424", "640425"]
    assert all(o.attempts == 1 and o.commit_seconds > 0 and o.worker_peak_mib > 0 for o in outcomes if o.ok)
    assert lake_query(lake, "SELECT _county, sum(inspectors) FROM lake.raw.inspections GROUP BY 1 ORDER BY 1") == [
        ("640422", 5), ("640423", 5), ("640424", 3)]
    # Each county's load is one run and its own files, committed once.
    assert lake_query(lake, "SELECT count(*), count(DISTINCT run_id) FROM lake.runs") == [(3, 3)]


def test_a_county_named_twice_is_refused(tmp_path):
    lake = Lake("ducklake:postgres:dbname=nowhere host=/nonexistent", tmp_path / "lake")
    with pytest.raises(ValueError, match="640422"):
        fan_out(city_inbox(tmp_path), lake, ["640422", "640423", "640422"])


@pytest.mark.prefect
def test_the_prefect_flow_loads_every_county_of_the_org_and_marks_the_missing_one_failed(
        tmp_path, catalog, prefect_harness):
    inbox = city_inbox(tmp_path)
    lake = Lake(f"ducklake:postgres:{catalog}", tmp_path / "lake" / "data")
    out = county_fanout(str(inbox), lake.url, str(lake.data_path), "固原市", workers=2, runner="thread")
    assert [(o["county"], o["ok"]) for o in out] == [
        ("640402", False), ("640422", True), ("640423", True), ("640424", True), ("640425", False)]
    assert "原州区（640402）" in out[0]["error"]
    assert lake_query(lake, "SELECT count(DISTINCT _county) FROM lake.raw.inspections") == [(3,)]


def test_a_stopped_fan_out_starts_no_more_counties_and_says_so(tmp_path, catalog):
    inbox = city_inbox(tmp_path)
    lake = Lake(f"ducklake:postgres:{catalog}", tmp_path / "lake" / "data")
    outcomes = fan_out(inbox, lake, ["640422", "640423", "640424"], workers=1, runner="thread", checks=(),
                       stop=lambda: True)
    assert outcomes[0].ok  # the first finished; one more may have been under way
    assert not outcomes[2].ok and outcomes[2].error == "泾源县（640424）：未开始：批量载入已停止 · not started: the fan-out was stopped"
    loaded = {c for (c,) in lake_query(lake, "SELECT DISTINCT _county FROM lake.raw.inspections")}
    assert loaded == {o.county for o in outcomes if o.ok}
