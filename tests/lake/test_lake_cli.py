"""`warehouse` may be a DuckLake URL in tally.toml; `tally run --county CODE` loads one county into it."""

from __future__ import annotations

import duckdb
import pytest
from test_lake_load import city_inbox
from typer.testing import CliRunner

from flows.cli import app
from flows.run.settings import ConfigError, load_settings


def config(root, catalog: str) -> str:
    return (f'inbox = "inbox"\nwarehouse = "ducklake:postgres:{catalog}"\nlake_data_path = "lake/data"\n')


def test_run_county_loads_into_the_lake_and_builds_the_figures(tmp_path, catalog, monkeypatch):
    city_inbox(tmp_path)
    (tmp_path / "tally.toml").write_text(config(tmp_path, catalog), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    first = runner.invoke(app, ["run", "--county", "640422"])
    assert first.exit_code == 0, first.output
    assert "载入 loaded 2" in first.output and "lake snapshot" in first.output
    second = runner.invoke(app, ["run", "--county", "隆德县"])
    assert second.exit_code == 0, second.output
    with duckdb.connect(str(tmp_path / "warehouse" / "tally.duckdb"), read_only=True) as con:
        value = con.execute("SELECT value FROM indicators WHERE year = 2024 AND code = 'inspector_person_times'").fetchone()
    assert value[0] == 2 + 3 + 4 + 5 + 1
    shown = runner.invoke(app, ["indicators", "--year", "2024", "--format", "csv"])
    assert shown.exit_code == 0 and "inspector_person_times" in shown.output
    unknown = runner.invoke(app, ["run", "--county", "彭阳县"])  # no folder in the inbox
    assert unknown.exit_code == 2 and "640425" in unknown.output


def test_county_needs_a_lake(tmp_path, monkeypatch):
    city_inbox(tmp_path)
    (tmp_path / "tally.toml").write_text('inbox = "inbox"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["run", "--county", "640422"])
    assert result.exit_code == 1 and "--county" in result.output


@pytest.mark.parametrize(("text", "says"), [
    ('warehouse = "ducklake:postgres:dbname=x"\n', "lake_data_path"),
    ('warehouse = "ducklake:sqlite:lake.sqlite"\nlake_data_path = "d"\n', "ducklake:postgres"),
])
def test_a_lake_needs_postgres_and_a_data_path(tmp_path, text, says):
    path = tmp_path / "tally.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=says):
        load_settings(path)


def test_lake_settings(tmp_path):
    path = tmp_path / "tally.toml"
    path.write_text('warehouse = "ducklake:postgres:dbname=x host=/run/pg"\nlake_data_path = "lake/data"\n',
                    encoding="utf-8")
    s = load_settings(path)
    assert (s.lake, s.lake_data_path, s.warehouse) == (
        "ducklake:postgres:dbname=x host=/run/pg", tmp_path / "lake" / "data", tmp_path / "warehouse" / "tally.duckdb")
