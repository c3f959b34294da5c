"""The whole run: publish by swap, survive SIGKILL anywhere, never block readers, never overlap."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path

import duckdb
import pytest
from ledgerfiles import write_xlsx
from typer.testing import CliRunner

from flows.cli import app, ingest_commands
from flows.cli.run_commands import runs_frame
from flows.errors import TallyError
from flows.publish import swap as publish
from flows.run import pipeline

HEADER = ["序号", "检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "执法人员", "检查结果"]
FIGURES_SQL = ("SELECT code, value FROM indicators WHERE year = 2024 "
               "AND code IN ('venue_inspections', 'inspector_person_times') ORDER BY code")
# Runs here skip the GX suites (checks=()): they are not what these tests are about, and they
# cost each run a second and each subprocess the seconds of importing GX. `tally run` in the
# last test runs them.
RUNNER = ("import sys; from pathlib import Path; from flows.run.pipeline import run_pipeline; "
          "run_pipeline(Path(sys.argv[1]), Path(sys.argv[2]), checks=())")


def write_month(inbox: Path, month: int, people: list[int | str]) -> None:
    rows = [[i, f"2024-{month:02d}-0{i}", "日常检查", f"场所{i}", "网吧", n, "张三、李四", "未发现问题"]
            for i, n in enumerate(people, 1)]
    write_xlsx(inbox / "inspections" / f"2024-{month:02d}.xlsx", {"S": [HEADER, *rows]})


def figures(warehouse: Path) -> dict[str, float]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {code: float(value) for code, value in con.execute(FIGURES_SQL).fetchall()}


def expected(*people: int) -> dict[str, float]:
    return {"inspector_person_times": float(sum(people)), "venue_inspections": float(len(people))}


def flat(output: str) -> str:
    """Undo the terminal's line wrapping."""
    return output.replace("\n", "")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(warehouse: Path) -> list[str]:
    return sorted(p.name for p in warehouse.parent.glob(f".{warehouse.stem}{publish.ASIDE_MARK}*"))


class Site:
    """A bureau folder: tally.toml, an inbox and a warehouse, and ways to run tally on it."""

    def __init__(self, root: Path, notify: str = "") -> None:
        self.root = root
        self.inbox = root / "inbox"
        self.inbox.mkdir()
        self.warehouse = root / "warehouse" / "tally.duckdb"
        self.config = root / "tally.toml"
        self.config.write_text(f'inbox = "inbox"\nwarehouse = "warehouse/tally.duckdb"\n{notify}',
                               encoding="utf-8")
        self.marker = root / "paused"

    def run(self, **options) -> pipeline.RunResult:
        return pipeline.run_pipeline(self.inbox, self.warehouse, checks=(), **options)

    def start(self, pause: str) -> subprocess.Popen:
        """Start a run in a subprocess that pauses at the named stages."""
        env = {**os.environ, pipeline.PAUSE_ENV: pause, pipeline.PAUSE_MARKER_ENV: str(self.marker)}
        return subprocess.Popen([sys.executable, "-c", RUNNER, str(self.inbox), str(self.warehouse)],
                                cwd=self.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)

    def paused_at(self, proc: subprocess.Popen, timeout: float = 600) -> str:
        """Wait until the subprocess pauses; return the stage (`timeout`: a guard against a hang only)."""
        deadline = time.monotonic() + timeout
        # The marker may exist a moment before its text is written: wait for both.
        while not (self.marker.exists() and self.marker.read_text().split()):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the run never paused"
            time.sleep(0.02)
        return self.marker.read_text().split()[0]


@pytest.fixture
def site(tmp_path) -> Site:
    """A site whose warehouse is already published with March and April."""
    s = Site(tmp_path)
    write_month(s.inbox, 3, [2, 3])
    write_month(s.inbox, 4, [4])
    s.run()
    return s


def test_a_run_publishes_figures_and_records_itself(site):
    assert figures(site.warehouse) == expected(2, 3, 4)
    write_month(site.inbox, 5, [1, "x"])  # the second row is quarantined
    result = site.run()
    assert (result.outcome, result.summary.files_loaded, result.summary.rows_quarantined) == ("completed", 1, 1)
    assert result.year == 2024 and result.problems == 1
    assert result.indicators.filter(code="inspector_person_times")["value"].item() == 10
    assert figures(site.warehouse) == expected(2, 3, 4, 1)
    with duckdb.connect(str(site.warehouse), read_only=True) as con:
        rows = con.execute("SELECT run_id, outcome, files_loaded, rows_loaded, rows_quarantined, ended_at "
                           "IS NOT NULL FROM runs ORDER BY started_at").fetchall()
    assert [r[1:] for r in rows] == [("completed", 2, 3, 0, True), ("completed", 1, 1, 1, True)]
    assert rows[-1][0] == result.run_id
    assert leftovers(site.warehouse) == [] and not publish.wal_path(site.warehouse).exists()
    assert runs_frame(site.warehouse)["outcome"].to_list() == ["completed", "completed"]
    assert "隔离 quarantined 1" in pipeline.summary_text(result)


def test_a_failed_run_publishes_nothing_and_is_recorded(site):
    before = sha256(site.warehouse)
    write_month(site.inbox, 5, [6])

    def broken(con):
        raise TallyError("SQL 模型 indicators 运行失败")

    with pytest.raises(pipeline.RunFailed) as caught:
        site.run(steps=pipeline.Steps(build_models=broken))
    failed = caught.value.result
    assert failed.outcome == "failed" and "SQL 模型 indicators 运行失败" in failed.message
    assert sha256(site.warehouse) == before and leftovers(site.warehouse) == []
    runs = runs_frame(site.warehouse)
    assert runs["outcome"].to_list() == ["completed", "failed"]
    assert runs["run_id"][-1] == failed.run_id

    site.run()
    assert figures(site.warehouse) == expected(2, 3, 4, 6)
    with duckdb.connect(str(site.warehouse), read_only=True) as con:
        assert con.execute("SELECT outcome, message FROM runs WHERE run_id = ?", [failed.run_id]).fetchone() == (
            "failed", failed.message)  # carried from the runs log into the warehouse


def test_runs_killed_at_any_stage_leave_the_published_warehouse_as_it_was(site):
    published, before = sha256(site.warehouse), figures(site.warehouse)
    write_month(site.inbox, 5, [6])
    for stage in ("aside", "loaded", "checkpointed"):
        proc = site.start(pause=stage)
        assert site.paused_at(proc) == stage
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        site.marker.unlink()
        assert sha256(site.warehouse) == published, stage
        assert figures(site.warehouse) == before
    assert leftovers(site.warehouse)  # the last killed run left its aside file

    # Killed after the swap: the run's work is published, and whole.
    proc = site.start(pause="swapped")
    assert site.paused_at(proc) == "swapped"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert figures(site.warehouse) == expected(2, 3, 4, 6)

    done = site.run()
    assert (done.outcome, done.summary.files_loaded, done.summary.files_unchanged) == ("completed", 0, 3)
    assert figures(site.warehouse) == expected(2, 3, 4, 6)
    assert leftovers(site.warehouse) == []
    outcomes = runs_frame(site.warehouse)["outcome"].to_list()
    assert outcomes == ["completed", *["interrupted"] * 3, "completed", "completed"]


def test_readers_can_query_the_published_warehouse_throughout_a_run(site):
    old = figures(site.warehouse)
    write_month(site.inbox, 5, [6])
    proc = site.start(pause=",".join(pipeline.PAUSE_POINTS))
    seen, stages = [], []
    while proc.poll() is None:
        seen.append(figures(site.warehouse))  # fails loudly if the file is locked or torn
        if site.marker.exists() and (said := site.marker.read_text().split()):
            stages.append(said[0])
            seen += [figures(site.warehouse) for _ in range(3)]
            site.marker.unlink()
        time.sleep(0.01)  # leave the run some of the CPU
    assert proc.returncode == 0, proc.communicate()
    seen.append(figures(site.warehouse))
    assert stages == list(pipeline.PAUSE_POINTS)
    new = expected(2, 3, 4, 6)
    assert seen[0] == old and seen[-1] == new and set(map(str, seen)) == {str(old), str(new)}
    assert len(seen) > 3 * len(pipeline.PAUSE_POINTS)


def test_two_runs_at_once_one_runs_the_other_refuses_or_waits(site):
    write_month(site.inbox, 5, [6])
    first = site.start(pause="loaded")
    site.paused_at(first)

    refused = CliRunner().invoke(app, ["run", "--config", str(site.config), "--wait", "0"])
    assert refused.exit_code == 75
    said = flat(refused.output)
    assert "另一次运行正在进行" in said and "Another run is in progress" in said

    waited: list = []
    # The waits below are guards against a hang, long enough for a loaded machine.
    waiting = threading.Thread(target=lambda: waited.append(site.run(lock_wait=600)))
    waiting.start()
    time.sleep(0.5)
    assert waiting.is_alive() and not waited  # still waiting for the lock
    site.marker.unlink()
    assert first.wait(timeout=600) == 0, first.communicate()
    waiting.join(timeout=600)
    assert waited, "the waiting run never got the lock"
    summary = waited[0].summary
    assert (summary.files_loaded, summary.files_unchanged) == (0, 3)
    assert figures(site.warehouse) == expected(2, 3, 4, 6)
    assert runs_frame(site.warehouse)["outcome"].to_list() == ["completed"] * 3


def test_tally_run_exit_codes_and_the_notify_command(tmp_path, monkeypatch):
    got = tmp_path / "notified.txt"
    script = f"import sys; open({str(got)!r}, 'a', encoding='utf-8').write(sys.stdin.read())"
    command = json.dumps(shlex.join([sys.executable, "-c", script]))  # a TOML basic string
    s = Site(tmp_path, notify=f"[notify]\ncommand = {command}\n")
    write_month(s.inbox, 3, [2, "x"])
    (s.inbox / "unknown").mkdir()
    (s.inbox / "unknown" / "note.xlsx").write_bytes(b"not a ledger")
    runner = CliRunner()
    ok = runner.invoke(app, ["run", "--config", str(s.config)])
    assert ok.exit_code == 0, ok.output  # rejected files and quarantined rows are not a failure
    assert "退回 rejected 1" in flat(ok.output) and "隔离 quarantined 1" in flat(ok.output)
    assert "退回 rejected 1" in got.read_text(encoding="utf-8")

    # The command's one seam: the run it starts, given models that cannot be built.
    failing = partial(pipeline.run_pipeline, steps=pipeline.Steps(build_models=lambda con: 1 / 0))
    monkeypatch.setattr(ingest_commands, "run_pipeline", failing)
    write_month(s.inbox, 4, [1])
    failed = runner.invoke(app, ["run", "--config", str(s.config)])
    assert failed.exit_code == 1
    assert "run failed, nothing published: ZeroDivisionError" in flat(failed.output)
    assert "失败 · FAILED" in got.read_text(encoding="utf-8")
    listed = runner.invoke(app, ["runs", "--config", str(s.config), "--format", "csv"])
    assert listed.exit_code == 0 and listed.output.count("\n") == 3 and ",failed," in listed.output


def test_failed_cross_checks_are_named():
    import polars as pl

    frame = pl.DataFrame({"check": ["a", "b"], "warnings": [0, 3], "passed": [True, False]})
    assert pipeline.failures_of(frame) == ["check=b warnings=3"]
    assert pipeline.failures_of([{"name": "x", "passed": False}, {"name": "y", "ok": True}]) == ["x"]
    assert pipeline.failures_of(None) == []


def test_a_run_that_finds_nothing_new_leaves_the_published_file_alone(tmp_path):
    inbox, warehouse = tmp_path / "inbox", tmp_path / "w" / "tally.duckdb"
    write_month(inbox, 3, [2, 3])
    pipeline.run_pipeline(inbox, warehouse, checks=())
    before = sha256(warehouse)
    result = pipeline.run_pipeline(inbox, warehouse, checks=())
    assert (result.outcome, result.summary.files_unchanged, result.summary.files_loaded) == ("completed", 1, 0)
    assert "nothing new" in result.message
    assert sha256(warehouse) == before  # no copy aside, no rebuild, no swap
    assert result.indicators is not None and result.year == 2024
    # The next run that publishes carries the quiet run into `runs`.
    write_month(inbox, 4, [1])
    pipeline.run_pipeline(inbox, warehouse, checks=())
    with duckdb.connect(str(warehouse), read_only=True) as con:
        outcomes = con.execute("SELECT run_id FROM runs WHERE run_id = ?", [result.run_id]).fetchall()
    assert outcomes == [(result.run_id,)]
    assert figures(warehouse) == expected(2, 3, 1)


def test_loading_in_many_small_flushes_gives_the_same_warehouse(tmp_path):
    from flows.sample import write_sample_inbox

    manifest = write_sample_inbox(2024, tmp_path / "inbox")
    whole = pipeline.run_pipeline(manifest.out, tmp_path / "a" / "tally.duckdb")
    pieces = pipeline.run_pipeline(manifest.out, tmp_path / "b" / "tally.duckdb", batch_size=7, flush_rows=150)
    for field in ("files_loaded", "files_superseded", "rows_read", "rows_loaded", "rows_quarantined", "warnings"):
        assert getattr(whole.summary, field) == getattr(pieces.summary, field), field
    assert whole.indicators.equals(pieces.indicators)
    sql = "SELECT path, sheet, row, rule FROM problem_log ORDER BY ALL"
    with duckdb.connect(str(tmp_path / "a" / "tally.duckdb"), read_only=True) as a, \
            duckdb.connect(str(tmp_path / "b" / "tally.duckdb"), read_only=True) as b:
        assert a.execute(sql).fetchall() == b.execute(sql).fetchall()
