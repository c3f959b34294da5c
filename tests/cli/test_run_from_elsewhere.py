"""Run from a folder with no tally.toml and no warehouse, tally says where it looked and what to do."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from flows.cli import app


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    folder = tmp_path / "某个别的文件夹"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv("TALLY_CONFIG", raising=False)
    return folder


@pytest.mark.parametrize("args", [
    ["files"], ["runs"], ["indicators", "-y", "2024"], ["explain", "cases_filed", "-y", "2024"],
    ["problems", "-y", "2024"], ["report", "-y", "2024", "-f", "md", "-o", "-"],
], ids=lambda a: a[0])
def test_a_reader_names_the_folder_the_settings_file_and_the_fix(elsewhere, args):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    said = result.stderr.replace("\n", "")
    assert str(elsewhere) in said  # the folder tally looked in
    assert "tally.toml" in said and "$TALLY_CONFIG" in said  # the settings it looked for
    assert str(elsewhere / "warehouse" / "tally.duckdb") in said  # the warehouse it then expected
    assert "cd" in said and "--warehouse PATH" in said  # what to do
    assert result.stdout == ""


def test_run_names_the_inbox_it_looked_for(elsewhere):
    result = CliRunner().invoke(app, ["run"])
    assert result.exit_code == 2
    said = result.output.replace("\n", "")
    assert str(elsewhere / "inbox") in said and str(elsewhere) in said and "--inbox PATH" in said


def test_with_a_tally_toml_the_message_names_it_and_says_run_first(elsewhere):
    config = elsewhere / "tally.toml"
    config.write_text('warehouse = "data/t.duckdb"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["files"])
    assert result.exit_code == 1
    said = result.stderr.replace("\n", "")
    assert str(config) in said and str(elsewhere / "data" / "t.duckdb") in said
    assert "tally run" in said and "没有 tally.toml" not in said
