"""`tally sample --org`: a city's counties, each with figures of its own, load into the lake as planted.

The five counties of 固原市 are written by the command, loaded at once by the local fan-out
(`flows.run.fanout`) into a lake on a real PostgreSQL, and built one county at a time: every
county's figures are the ones its rows were drawn to give, the counties differ, and the only
problems are the mistakes each county's sample plants.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from flows.cli.app import app
from flows.load.lake import Lake
from flows.run.fanout import fan_out
from flows.run.lake_run import build_from_lake
from flows.sample import write_sample_inbox
from flows.sample.org import county_targets, write_org_inbox

GUYUAN = ["640402", "640422", "640423", "640424", "640425"]  # 原州区, 西吉县, 隆德县, 泾源县, 彭阳县


def hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """The city's sample, written by the command; its manifests by county (the same draw, in memory)."""
    root = tmp_path_factory.mktemp("guyuan")
    done = CliRunner().invoke(app, ["sample", "--year", "2024", "--org", "640400", "--out-dir", str(root / "inbox")])
    assert done.exit_code == 0, done.output
    assert "5 个县 · counties" in done.output
    manifests = {c.code: c.manifest for c in write_org_inbox(2024, root / "again", "固原市")}
    return root, manifests


def test_one_folder_per_county_each_deterministic_by_its_code(city, tmp_path):
    root, _ = city
    inbox = root / "inbox"
    assert sorted(p.name for p in inbox.iterdir()) == GUYUAN
    assert hashes(inbox) == hashes(root / "again")  # the same command, the same bytes
    # A county's folder is the same whether written for its city or alone.
    write_org_inbox(2024, tmp_path / "alone", "隆德县")
    assert hashes(tmp_path / "alone" / "640423") == hashes(inbox / "640423")
    # The sample county keeps its published year: its folder is the single sample, byte for byte.
    write_sample_inbox(2024, tmp_path / "single")
    assert hashes(tmp_path / "single") == hashes(inbox / "640422")


def test_counties_differ_in_totals_and_in_rates(city):
    _, manifests = city
    for code in ("inspector_person_times", "fines_yuan", "publicity_events", "wechat_posts"):
        values = [manifests[c].expected[code] for c in GUYUAN]
        assert len(set(values)) == 5, (code, values)
    # The generator draws most rates at 100% (the report's own); the on-time disclosure rate varies.
    rates = [manifests[c].expected["disclosure_on_time_rate"] for c in GUYUAN]
    assert len(set(rates)) >= 3, rates
    assert county_targets(2024, "640422").person_times == 1776  # the published figure
    sizes = [county_targets(2024, c).venue_inspections for c in GUYUAN]
    assert min(sizes) < 888 < max(sizes)


def test_every_county_loads_with_only_its_planted_mistakes(city, catalog):
    root, manifests = city
    lake = Lake(f"ducklake:postgres:{catalog}", root / "lake" / "data")
    outcomes = fan_out(root / "inbox", lake, GUYUAN, workers=2)
    assert [(o.county, o.error, o.files_rejected) for o in outcomes] == [(c, None, 0) for c in GUYUAN]
    for outcome in outcomes:
        assert outcome.files_loaded == len({f.path for f in manifests[outcome.county].files})
    for county in GUYUAN:
        built = root / f"{county}.duckdb"
        build_from_lake(lake, built, county=county)
        with duckdb.connect(str(built), read_only=True) as con:
            found = con.execute("""
                SELECT path, coalesce(sheet, '') AS sheet, row, header, rule, severity FROM problems
                UNION ALL
                SELECT path, coalesce(sheet, ''), row, header, rule, severity FROM check_warnings""").fetchall()
            figures = dict(con.execute("SELECT code, value FROM indicators WHERE year = 2024").fetchall())
        planted = [(f"{county}/{m.path}", m.sheet, m.row, m.header, m.rule, m.severity)
                   for m in manifests[county].mistakes]
        assert sorted(found) == sorted(planted), county
        expected = manifests[county].expected
        for code in ("inspector_person_times", "fines_yuan", "publicity_events", "wechat_posts", "cases_filed",
                     "disclosure_on_time_rate"):
            if code in expected:
                assert float(figures[code]) == pytest.approx(expected[code]), (county, code)
