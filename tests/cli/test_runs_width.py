"""`tally runs` fits a terminal of 100 columns: one line per run, long messages cut, and shown whole on asking."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from rich.cells import cell_len

from flows.publish import swap

LONG = ("第12行「检查日期」无法识别，" * 20) + " · the end of a very long message"


def logged(warehouse: Path, run_id: str, outcome: str, message: str | None) -> None:
    """Log a run as a run logs itself (a warehouse not yet published still lists it)."""
    swap.append_run(warehouse, {
        "run_id": run_id, "started_at": "2024-12-01T02:00:00+00:00", "ended_at": "2024-12-01T02:03:00+00:00",
        "inbox": "inbox", "outcome": outcome, "files_loaded": 1234, "files_unchanged": 0,
        "files_superseded": 0, "files_rejected": 56, "rows_loaded": 1234567, "rows_quarantined": 89,
        "warnings": 10000, "message": message,
    })  # fmt: skip


def tally(*args: str, columns: int = 100) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "dumb"}
    env.pop("TALLY_CONFIG", None)
    return subprocess.run([sys.executable, "-c", "from flows.cli import app; app()", *args],
                          capture_output=True, text=True, env=env, timeout=120, check=False)


def test_runs_fit_100_columns_one_line_per_run(tmp_path):
    warehouse = tmp_path / "warehouse" / "tally.duckdb"
    warehouse.parent.mkdir()
    logged(warehouse, "20241201T020000-aaaaaaaa", "failed", LONG)
    logged(warehouse, "20241202T020000-bbbbbbbb", "completed", "没有新文件")
    logged(warehouse, "20241203T020000-cccccccc", "completed", None)
    result = tally("runs", "-w", str(warehouse))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(cell_len(line) for line in lines) <= 100, result.stdout
    for run_id in ("aaaaaaaa", "bbbbbbbb", "cccccccc"):
        assert len([x for x in lines if run_id in x]) == 1  # each run on one line
    failed = next(x for x in lines if "aaaaaaaa" in x)
    assert "失败" in failed and "1234/56" in failed and "1234567" in failed and "…" in failed
    assert "没有新文件" in next(x for x in lines if "bbbbbbbb" in x)
    assert "tally runs --run ID" in result.stdout  # where to read the message whole

    whole = tally("runs", "-w", str(warehouse), "--run", "20241201T020000")
    assert whole.returncode == 0, whole.stderr
    assert "the end of a very long message" in whole.stdout.replace("\n", "")
    as_json = json.loads(tally("runs", "-w", str(warehouse), "--format", "json").stdout)
    assert as_json[0]["message"] == LONG and as_json[0]["problems"] == 56 + 89 + 10000

    several = tally("runs", "-w", str(warehouse), "--run", "2024120")
    assert several.returncode == 1 and "20241201T020000-aaaaaaaa" in several.stderr
    assert tally("runs", "-w", str(warehouse), "--run", "nope").returncode == 1


def test_a_narrow_terminal_still_gives_one_line_per_run(tmp_path):
    warehouse = tmp_path / "warehouse" / "tally.duckdb"
    warehouse.parent.mkdir()
    logged(warehouse, "20241201T020000-aaaaaaaa", "failed", LONG)
    result = tally("runs", "-w", str(warehouse), columns=80)
    lines = result.stdout.splitlines()
    assert max(cell_len(line) for line in lines) <= 80, result.stdout
    assert len([x for x in lines if "aaaaaaaa" in x]) == 1
