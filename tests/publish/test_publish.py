"""The run lock, building aside and swapping, and the runs log beside the warehouse."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import duckdb
import pytest

from flows.publish import swap as publish


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "warehouse" / "tally.duckdb"
    path.parent.mkdir()
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE indicators AS SELECT 2024 AS year, 'cases' AS code, 7 AS value")
    return path


def test_a_second_lock_fails_at_once_with_a_bilingual_message(warehouse):
    with publish.run_lock(warehouse, run_id="first"):
        with pytest.raises(publish.RunInProgress) as caught, publish.run_lock(warehouse, run_id="second"):
            pass
        assert publish.lock_is_held(warehouse)
    message = str(caught.value)
    assert "另一次运行正在进行" in message and "Another run is in progress" in message
    assert "first" in message and str(os.getpid()) in message
    assert not publish.lock_is_held(warehouse)


def test_a_waiting_run_gets_the_lock_when_the_first_ends(warehouse):
    order = []

    def first():
        with publish.run_lock(warehouse, run_id="first"):
            order.append("first in")
            time.sleep(0.5)
            order.append("first out")

    thread = threading.Thread(target=first)
    thread.start()
    while not order:
        time.sleep(0.01)
    # The lock keeps the order; the wait is only a guard against a hang on a loaded machine.
    with publish.run_lock(warehouse, run_id="second", wait=600, poll=0.05):
        order.append("second in")
    thread.join()
    assert order == ["first in", "first out", "second in"]


def test_waiting_is_bounded(warehouse):
    with publish.run_lock(warehouse, run_id="first"):
        started = time.monotonic()
        with (pytest.raises(publish.RunInProgress, match=r"等待 0\.3 秒后"),
              publish.run_lock(warehouse, run_id="second", wait=0.3, poll=0.05)):
            pass
        assert time.monotonic() - started >= 0.3  # it waited; no upper bound: a loaded machine is slow


def test_a_killed_holder_frees_the_lock(warehouse):
    code = ("import sys, time; from pathlib import Path; from flows.publish import swap as publish\n"
            "with publish.run_lock(Path(sys.argv[1]), run_id='doomed'):\n"
            "    print('locked', flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(warehouse)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    assert publish.lock_is_held(warehouse)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with publish.run_lock(warehouse, run_id="next"):
        pass


def test_swap_replaces_the_file_while_an_open_reader_keeps_the_old_one(warehouse):
    reader = duckdb.connect(str(warehouse), read_only=True)
    aside = publish.build_aside(warehouse, "r1")
    assert aside.parent == warehouse.parent and aside.name.startswith(".")
    writer = duckdb.connect(str(aside))
    writer.execute("UPDATE indicators SET value = 8")
    publish.close_aside(writer)
    assert not publish.wal_path(aside).exists()
    publish.swap(aside, warehouse)
    assert not aside.exists()
    assert reader.execute("SELECT value FROM indicators").fetchone() == (7,)
    reader.close()
    with duckdb.connect(str(warehouse), read_only=True) as fresh:
        assert fresh.execute("SELECT value FROM indicators").fetchone() == (8,)


def test_stale_aside_files_are_cleaned_and_nothing_else(warehouse):
    stale = [publish.aside_path(warehouse, "dead"), publish.wal_path(publish.aside_path(warehouse, "dead"))]
    for path in stale:
        path.write_bytes(b"partial")
    keep = warehouse.parent / "notes.txt"
    keep.write_text("analyst's")
    assert sorted(publish.clean_stale_asides(warehouse)) == sorted(stale)
    assert warehouse.exists() and keep.exists() and not any(p.exists() for p in stale)


def test_the_first_run_builds_aside_from_nothing(tmp_path):
    warehouse = tmp_path / "new" / "tally.duckdb"
    aside = publish.build_aside(warehouse, "r1")
    assert not aside.exists() and aside.parent.is_dir()


def test_runs_log_keeps_the_last_record_and_marks_the_unfinished(warehouse):
    publish.append_run(warehouse, {"run_id": "a", "outcome": "running", "inbox": "inbox"})
    publish.append_run(warehouse, {"run_id": "a", "outcome": "completed", "files_loaded": 3})
    publish.append_run(warehouse, {"run_id": "b", "outcome": "running"})
    with publish.log_path(warehouse).open("a") as f:
        f.write('{"run_id": "c", "outcome": "runn')  # cut short by a crash
    assert publish.mark_interrupted(warehouse) == ["b"]
    runs = publish.logged_runs(warehouse)
    assert list(runs) == ["a", "b"]
    assert (runs["a"]["outcome"], runs["a"]["files_loaded"]) == ("completed", 3)
    assert runs["b"]["outcome"] == "interrupted" and "运行中断" in runs["b"]["message"]
