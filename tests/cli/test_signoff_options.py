"""`tally signoff` and `--changes-since-signoff` refuse what they cannot do before touching any lake."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from flows.cli import app


@pytest.mark.parametrize(("args", "code", "says"), [
    (["indicators", "--year", "2024", "--changes-since-signoff"], 2, "须与 --org 一起用"),
    (["indicators", "--year", "2024", "--org", "640422", "--changes-since-signoff", "-f", "csv"], 2, "table 或 json"),
    (["indicators", "--year", "2024", "--org", "640422", "--changes-since-signoff", "-f", "json", "-o", "x.json"], 2, "只输出到屏幕"),
    (["indicators", "--year", "2024", "--org", "640422", "--changes-since-signoff"], 1, "不是湖仓"),
    (["signoff", "--org", "640422", "--year", "2024"], 1, "不是湖仓"),
    (["signoff", "--org", "640422", "--year", "2024", "--verify"], 1, "不是湖仓"),
])
def test_refused_without_a_lake_or_with_options_it_cannot_honour(tmp_path, monkeypatch, args, code, says):
    (tmp_path / "tally.toml").write_text('inbox = "inbox"\n', encoding="utf-8")  # a county's single file
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == code and says in result.output, result.output


def test_an_unknown_county_is_a_wrong_option(tmp_path, monkeypatch):
    (tmp_path / "tally.toml").write_text('warehouse = "ducklake:postgres:dbname=x host=/nonexistent"\n'
                                         'lake_data_path = "lake/data"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["signoff", "--org", "某某县", "--year", "2024"])
    assert result.exit_code == 2 and "未知的单位「某某县」" in result.output, result.output
    assert not (tmp_path / "lake").exists()  # refused before the lake was attached
