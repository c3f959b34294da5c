"""Runs can't be tripped: leftovers go on every run, a deleted lock file frees nothing, and
`tally indicators --build` builds aside like a run; the warehouse's folder and file are checked."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading

import duckdb
import pytest
from test_pipeline import Site, expected, figures, leftovers, sha256, write_month
from typer.testing import CliRunner

from flows.cli import app, indicator_commands
from flows.publish import swap as publish


@pytest.fixture
def site(tmp_path) -> Site:
    """A site whose warehouse is already published with March."""
    s = Site(tmp_path)
    write_month(s.inbox, 3, [2, 3])
    s.run()
    return s


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def one_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    return lines[0]


def test_a_nothing_new_run_cleans_what_a_killed_run_left(site):
    published = sha256(site.warehouse)
    write_month(site.inbox, 5, [6])
    proc = site.start(pause="aside")
    assert site.paused_at(proc) == "aside"
    kill(proc)
    site.marker.unlink()
    aside = site.warehouse.parent / leftovers(site.warehouse)[0]
    assert aside.stat().st_size == site.warehouse.stat().st_size  # a whole copy, left behind
    publish.wal_path(aside).write_bytes(b"wal")
    spill = publish.spill_folder(site.warehouse)
    spill.mkdir()
    (spill / "duckdb_temp_block-1.block").write_bytes(b"x" * 1024)
    readers = site.warehouse.with_name("tally.duckdb.tmp")  # where read-only connections spill
    readers.mkdir()
    (readers / "reader.block").write_bytes(b"y")
    (site.inbox / "inspections" / "2024-05.xlsx").unlink()  # the inbox is as published again

    result = site.run()
    assert result.summary.files_loaded == 0 and "nothing new" in result.message
    assert leftovers(site.warehouse) == [] and not spill.exists()
    assert sha256(site.warehouse) == published
    assert (readers / "reader.block").exists()  # not the run's to clean
    assert sorted(p.name for p in site.warehouse.parent.iterdir()) == [
        "tally.duckdb", "tally.duckdb.lock", "tally.duckdb.runs.jsonl", "tally.duckdb.tmp"]


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_deleted_lock_file_lets_no_second_run_in(site, how):
    write_month(site.inbox, 5, [6])
    first = site.start(pause="aside")
    assert site.paused_at(first) == "aside"
    owned = leftovers(site.warehouse)
    assert owned  # the first run's aside copy
    lock = publish.lock_path(site.warehouse)
    lock.unlink()
    if how == "replaced":
        lock.write_text("{}")

    with pytest.raises(publish.RunInProgress):
        site.run()
    refused = CliRunner().invoke(app, ["run", "--config", str(site.config)])
    assert refused.exit_code == 75, refused.output
    built = CliRunner().invoke(app, ["indicators", "--year", "2024", "--build", "--config", str(site.config)])
    assert built.exit_code == 75, built.output
    assert publish.lock_is_held(site.warehouse)
    assert leftovers(site.warehouse) == owned  # nobody touched the live run's copy

    site.marker.unlink()
    assert first.wait(timeout=600) == 0, first.communicate()  # a guard against a hang only
    assert figures(site.warehouse) == expected(2, 3, 6)
    assert leftovers(site.warehouse) == []


def test_the_lock_is_held_by_a_live_run_only(site):
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from flows.publish import swap as publish\n"
         "with publish.run_lock(Path(sys.argv[1]), run_id='x'):\n    print('in', flush=True); time.sleep(60)",
         str(site.warehouse)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "in"
    assert publish.lock_is_held(site.warehouse)
    kill(proc)
    assert not publish.lock_is_held(site.warehouse)


def test_indicators_build_builds_aside_while_a_reader_is_open(site, monkeypatch):
    reader = duckdb.connect(str(site.warehouse), read_only=True)
    before = reader.execute("SELECT count(*) FROM indicators").fetchone()
    inode = site.warehouse.stat().st_ino
    seen_during: list = []
    real_build = indicator_commands.indicators.build

    def build(con):
        assert publish.lock_is_held(site.warehouse)
        # The published file is not held for writing: a new reader opens and reads it meanwhile.
        with duckdb.connect(str(site.warehouse), read_only=True) as other:
            seen_during.append(other.execute("SELECT count(*) FROM indicators").fetchone())
        return real_build(con)

    monkeypatch.setattr(indicator_commands.indicators, "build", build)
    result = CliRunner().invoke(app, ["indicators", "--year", "2024", "--build", "--format", "csv",
                                      "--config", str(site.config)])
    assert result.exit_code == 0, result.output
    assert "venue_inspections" in result.stdout
    assert seen_during == [before]
    assert reader.execute("SELECT count(*) FROM indicators").fetchone() == before  # the open reader
    reader.close()
    assert site.warehouse.stat().st_ino != inode  # swapped in, not written in place
    assert figures(site.warehouse) == expected(2, 3)
    assert leftovers(site.warehouse) == [] and not publish.wal_path(site.warehouse).exists()
    assert not publish.lock_is_held(site.warehouse)


def test_a_failed_build_leaves_the_published_warehouse_as_it_was(site, monkeypatch):
    published = sha256(site.warehouse)

    def broken(con):
        con.execute("DROP TABLE indicators")
        raise duckdb.BinderException("a model does not build")

    monkeypatch.setattr(indicator_commands.indicators, "build", broken)
    result = CliRunner().invoke(app, ["indicators", "--year", "2024", "--build", "--config", str(site.config)])
    assert result.exit_code == 1
    assert "模型重算失败，已发布的仓库未改动" in one_line(result.output) and "a model does not build" in result.output
    assert sha256(site.warehouse) == published and leftovers(site.warehouse) == []


def test_a_build_waits_for_no_one_while_a_run_holds_the_lock(site):
    with publish.run_lock(site.warehouse, run_id="run"):
        result = CliRunner().invoke(app, ["indicators", "--year", "2024", "--build", "--config", str(site.config)])
    assert result.exit_code == 75 and "另一次运行正在进行" in result.output


@contextlib.contextmanager
def read_only_folder(folder):
    """Make a folder unwritable even for root (immutable), or skip where that is not allowed."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("cannot make a folder read-only here (chattr +i refused)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_a_read_only_warehouse_folder_stops_a_run_before_any_work(site):
    published = sha256(site.warehouse)
    write_month(site.inbox, 5, [6])
    with read_only_folder(site.warehouse.parent):
        result = CliRunner().invoke(app, ["run", "--config", str(site.config)])
        assert result.exit_code == 2, result.output
        line = one_line(result.output)
        assert "运行未开始" in line and "仓库目录不可写" in line and str(site.warehouse.parent) in line
        built = CliRunner().invoke(app, ["indicators", "--year", "2024", "--build", "--config", str(site.config)])
        assert built.exit_code == 2 and "仓库目录不可写" in one_line(built.output)
        read = CliRunner().invoke(app, ["indicators", "--year", "2024", "--config", str(site.config)])
        assert read.exit_code == 0, read.output  # reading needs no write access
    assert sha256(site.warehouse) == published


READERS = [
    ["files"], ["runs"], ["problems", "--year", "2024"], ["completeness", "--year", "2024"],
    ["indicators", "--year", "2024"], ["explain", "venue_inspections", "--year", "2024"],
    ["report", "--year", "2024", "--format", "md", "--output", "-"],
]


@pytest.mark.parametrize("content", [b"this is not a duckdb file" * 200, b""], ids=["garbage", "empty"])
def test_a_corrupt_warehouse_gives_readers_one_line_and_exit_2(tmp_path, content):
    s = Site(tmp_path)
    s.warehouse.parent.mkdir()
    s.warehouse.write_bytes(content)
    draft = tmp_path / "draft.txt"
    draft.write_text("全年检查1家次。", encoding="utf-8")
    for args in [*READERS, ["check-draft", str(draft), "--year", "2024"]]:
        result = CliRunner().invoke(app, [*args, "--config", str(s.config)])
        assert result.exit_code == 2, (args, result.output)
        line = one_line(result.output)
        assert line.startswith("仓库无法读取 · cannot read the warehouse:") and str(s.warehouse) in line, args


def test_a_warehouse_without_tally_tables_gives_readers_exit_2(tmp_path):
    s = Site(tmp_path)
    s.warehouse.parent.mkdir()
    duckdb.connect(str(s.warehouse)).close()  # a DuckDB file, but not a tally warehouse
    for args in READERS:
        result = CliRunner().invoke(app, [*args, "--config", str(s.config)])
        if args[0] == "report":  # the report names the missing tables itself
            assert result.exit_code == 1 and "仓库中还没有指标表" in one_line(result.output)
            continue
        assert result.exit_code == 2, (args, result.output)
        assert "仓库无法读取" in one_line(result.output), args


def test_a_run_on_a_corrupt_warehouse_fails_and_keeps_it(tmp_path):
    s = Site(tmp_path)
    write_month(s.inbox, 3, [2])
    s.warehouse.parent.mkdir()
    s.warehouse.write_bytes(b"not a duckdb file" * 100)
    result = CliRunner().invoke(app, ["run", "--config", str(s.config)])
    assert result.exit_code == 1 and "运行失败，未发布" in result.output  # the run itself failed
    assert s.warehouse.read_bytes() == b"not a duckdb file" * 100 and leftovers(s.warehouse) == []


def test_report_out_naming_a_folder_is_refused_before_any_work(site):
    folder = site.root / "reports"
    folder.mkdir()
    result = CliRunner().invoke(app, ["report", "--year", "2024", "--format", "docx", "--output", str(folder),
                                      "--config", str(site.config)])
    assert result.exit_code == 2
    assert "是文件夹，请给出要写入的文件名" in result.output.replace("\n", "") and not any(folder.iterdir())


def test_a_reader_runs_while_a_build_holds_the_lock(site):
    """The lock keeps runs apart, never readers: `tally indicators` reads during a build."""
    with publish.run_lock(site.warehouse, run_id="build"):
        done = threading.Event()
        results = []

        def read():
            results.append(CliRunner().invoke(app, ["indicators", "--year", "2024", "--config", str(site.config)]))
            done.set()

        threading.Thread(target=read).start()
        assert done.wait(60)
    assert results[0].exit_code == 0, results[0].output


def test_a_warehouse_path_that_is_a_folder_stops_a_run_before_any_work(tmp_path):
    s = Site(tmp_path)
    write_month(s.inbox, 3, [2])
    s.warehouse.mkdir(parents=True)
    result = CliRunner().invoke(app, ["run", "--config", str(s.config)])
    assert result.exit_code == 2 and "仓库路径是一个文件夹" in one_line(result.output)
    assert list(s.warehouse.iterdir()) == []
