"""`tally` imports a command's module only when that command is called (issue 16).

A run that finds nothing new must not pay for what it never uses: the readers, the suites,
the report writers, the sample generator. These tests hold that without timing anything: they
look at which modules a fresh `tally` process imported, and check that the lazily loading
group still answers `--help`, unknown names and completion as typer's eager group did.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import typer
from ledgerfiles import write_csv
from typer.testing import CliRunner

from flows.cli import app, load_all
from flows.cli.app import COMMANDS

HEADER = ["检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "检查结果"]

# What a run that finds nothing new never needs; each of them cost it CPU time when imported.
NEVER_ON_NOTHING_NEW = (
    "numpy", "pandas", "pyarrow", "fastexcel", "xlsxwriter", "great_expectations", "prefect",
    "pebble", "flows.extract.readers", "flows.extract.parse", "flows.extract.plan",
    "flows.extract.isolation", "flows.validate.sheet_suites", "flows.validate.data_docs",
    "flows.sample", "flows.report.xlsx", "flows.publish.notify", "urllib.request", "http.client",
)


def imported_by_tally(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run `tally ARGS` in a fresh process; return it and the modules it had imported when it exited."""
    listing = tmp_path / "modules.json"
    code = ("import atexit, json, sys\n"
            f"atexit.register(lambda: open({str(listing)!r}, 'w').write(json.dumps(sorted(sys.modules))))\n"
            "from flows.cli import app\n"
            "app(prog_name='tally')\n")
    env = {**os.environ, "COLUMNS": "100", "TERM": "dumb"}
    env.pop("TALLY_CONFIG", None)
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                          timeout=300, check=False)
    return done, set(json.loads(listing.read_text()))


def top_level(modules: set[str]) -> set[str]:
    return modules | {m.split(".")[0] for m in modules}


def test_every_command_is_named_with_the_module_that_registers_it():
    load_all()
    registered = {(info.name or typer.main.get_command_name(info.callback.__name__)): info.callback.__module__
                  for info in app.registered_commands}
    for group in app.registered_groups:
        registered[group.name] = group.typer_instance.registered_commands[0].callback.__module__
    assert registered == COMMANDS


def test_help_lists_every_command_in_order_and_an_unknown_name_gets_the_closest():
    runner = CliRunner()
    shown = runner.invoke(app, ["--help"], terminal_width=200).stdout
    listed = [line.split()[0] for line in shown.split("Commands:")[1].splitlines() if line.strip()]
    assert listed == list(COMMANDS)
    unknown = runner.invoke(app, ["rn"])
    assert unknown.exit_code == 2
    assert "No such command 'rn'" in unknown.output and "'run'" in unknown.output


def test_completing_a_name_offers_every_command_that_starts_with_it():
    group = typer.main.get_command(app)
    ctx = group.make_context("tally", [], resilient_parsing=True)
    assert [item.value for item in group.shell_complete(ctx, "r")] == ["run", "rekey", "report", "runs"]
    assert [item.value for item in group.shell_complete(ctx, "co")] == ["completeness", "contract"]


def test_a_command_loads_only_its_own_module(tmp_path):
    done, modules = imported_by_tally(tmp_path, "run", "-h")
    assert done.returncode == 0, done.stderr
    assert "载入、计算并发布 · Load what is new" in done.stdout and "--county" in done.stdout
    commands = {m for m in modules if m.startswith("flows.cli.") and m.endswith("_commands")}
    assert commands == {"flows.cli.ingest_commands"}


def test_a_run_that_finds_nothing_new_imports_no_reader_suite_or_writer(ws, tmp_path):
    write_csv(ws.path("inspections/2024-03.csv"), [HEADER, ["2024-03-05", "日常检查", "某网吧", "网吧", "2", "未发现问题"]])
    args = ("run", "--inbox", str(ws.inbox), "--warehouse", str(ws.warehouse))
    first = CliRunner().invoke(app, list(args))
    assert first.exit_code == 0 and "载入 loaded 1" in first.output, first.output

    done, modules = imported_by_tally(tmp_path, *args)
    assert done.returncode == 0, done.stderr
    said = done.stderr.replace("\n", "")  # what a run says goes to stderr; stdout is for data
    assert "载入 loaded 0" in said and "未变 unchanged 1" in said and "没有新文件或改动" in said
    imported = sorted(top_level(modules) & set(NEVER_ON_NOTHING_NEW))
    assert imported == [], (
        f"a run that finds nothing new imported {imported}: import them in the functions that use them "
        "(`python -X importtime -c 'import flows.cli.ingest_commands'` shows which module pulls them in)")


def test_a_run_of_small_csvs_imports_neither_the_reader_pool_nor_the_workbook_xml_tools(ws, tmp_path):
    """Small CSVs are read in the run's own threads: no worker process, so no pebble (asyncio,
    0.1 s), and no workbook, so no xml.sax.saxutils (urllib.request and http.client: 0.14 s)."""
    write_csv(ws.path("inspections/2024-03.csv"), [HEADER, ["2024-03-05", "日常检查", "某网吧", "网吧", "2", "未发现问题"]])
    done, modules = imported_by_tally(tmp_path, "run", "--inbox", str(ws.inbox), "--warehouse", str(ws.warehouse))
    assert done.returncode == 0, done.stderr
    assert "载入 loaded 1" in done.stderr.replace("\n", "")
    assert "flows.extract.isolation" in modules and "flows.extract.readers" in modules
    assert sorted(top_level(modules) & {"pebble", "xml.sax.saxutils", "urllib.request", "http.client"}) == []
