"""`tally run` and `tally files` as a clerk or a script uses them."""

from __future__ import annotations

import csv
import io
import json

from ledgerfiles import write_xlsx
from typer.testing import CliRunner

from flows.cli import app

HEADER = ["检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "检查结果"]
FILES_COLUMNS = {"path", "ledger", "period", "status", "rows_read", "rows_loaded", "rows_quarantined",
                 "reason", "sha256", "seen_at"}


def test_run_then_files_in_every_format(ws):
    write_xlsx(ws.path("inspections/2024-03.xlsx"),
               {"S": [HEADER, ["2024-03-05", "日常检查", "某网吧", "网吧", 2, "未发现问题"],
                      ["2024-03-06", "日常检查", "某书店", "书店", "x", "未发现问题"]]})
    ws.path("inspections/readme.txt").write_text("not a ledger", encoding="utf-8")
    runner = CliRunner()
    w = ["--warehouse", str(ws.warehouse)]
    run = runner.invoke(app, ["run", "--inbox", str(ws.inbox), *w])
    assert run.exit_code == 0, run.output  # a rejected file is reported, not a failure
    said = run.output.replace("\n", "")
    for words in ("载入 loaded 1", "退回 rejected 1", "隔离 quarantined 1", "readme.txt"):
        assert words in said

    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, ["files", "--format", "csv", *w]).stdout)))
    assert set(rows[0]) >= FILES_COLUMNS
    by_path = {r["path"]: r for r in rows}
    loaded = by_path["inspections/2024-03.xlsx"]
    assert (loaded["status"], loaded["rows_read"], loaded["rows_loaded"], loaded["rows_quarantined"]) == (
        "loaded", "2", "1", "1")
    assert by_path["inspections/readme.txt"]["status"] == "rejected"
    assert "不受支持" in by_path["inspections/readme.txt"]["reason"]

    as_json = json.loads(runner.invoke(app, ["files", "--format", "json", *w]).stdout)
    assert {r["path"] for r in as_json} == set(by_path)
    table = runner.invoke(app, ["files", *w])
    assert table.exit_code == 0 and "rejected" in table.stdout  # wrapped to the terminal


def test_settings_come_from_tally_toml_and_flags_override_them(ws, tmp_path, monkeypatch):
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"S": [HEADER, ["2024-03-05", "日常检查", "某网吧", "网吧", 2, "合格"]]})
    config = tmp_path / "tally.toml"
    config.write_text('inbox = "inbox"\nwarehouse = "elsewhere/t.duckdb"\n', encoding="utf-8")
    monkeypatch.setenv("TALLY_CONFIG", str(config))
    runner = CliRunner()
    assert runner.invoke(app, ["run"]).exit_code == 0
    assert (tmp_path / "elsewhere" / "t.duckdb").exists()
    assert runner.invoke(app, ["run", "--warehouse", str(ws.warehouse)]).exit_code == 0
    assert ws.warehouse.exists()


def test_a_missing_inbox_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(app, ["run", "--inbox", str(tmp_path / "nope"), "--warehouse", str(tmp_path / "w.duckdb")])
    assert result.exit_code == 2
    assert "收件箱目录不存在" in result.output.replace("\n", "")


def test_memory_limit_comes_from_tally_toml_and_a_bad_one_is_named(ws, tmp_path, monkeypatch):
    from flows.run import stages

    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"S": [HEADER, ["2024-03-05", "日常检查", "某网吧", "网吧", 2, "合格"]]})
    config = tmp_path / "tally.toml"
    config.write_text('inbox = "inbox"\nwarehouse = "w/t.duckdb"\nmemory_limit = "300MB"\n', encoding="utf-8")
    monkeypatch.setenv("TALLY_CONFIG", str(config))
    limits = []
    real = stages.connect

    def connect(path, **kwargs):
        con = real(path, **kwargs)
        limits.append(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])
        return con

    monkeypatch.setattr(stages, "connect", connect)
    assert CliRunner().invoke(app, ["run"]).exit_code == 0
    assert limits and limits[0].startswith("286.1 MiB")  # DuckDB shows 300MB in MiB
    config.write_text('memory_limit = "lots"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["run"])
    assert result.exit_code == 2
    assert 'memory_limit 应为 内存大小文本，如 "1GB"' in result.output and '实际写的是 "lots"' in result.output
