"""`tally run` shows its stage, files done of the files to read and rows read (issue 15).

On a terminal (a real pty) that is a rich progress bar; in a pipe it is plain lines, one per
event, never wrapped at 80 columns and without terminal codes.
"""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest
from ledgerfiles import write_csv, write_xlsx
from rich.console import Console

from flows.cli.progress import RunProgress
from flows.run.pipeline import run_pipeline
from flows.run.stages import STAGES

TALLY = str(Path(sys.executable).with_name("tally"))
HEADER = ["检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "检查结果"]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# A guard against a hang only: the run takes seconds, a loaded machine may take many more.
HANG_GUARD_S = 300

SUMMARY = ("文件 files: 载入 loaded 3 · 未变 unchanged 0 · 被替代 superseded 0 · 退回 rejected 1",
           "行 rows: 读取 read 4 · 载入 loaded 4 · 隔离 quarantined 0 · 跳过 skipped 0 · 警告 warnings 0")


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    """Three inspection files of 1, 1 and 2 rows, and one file that is no ledger (rejected)."""
    root = tmp_path / "inbox"
    visit = ["2024-03-05", "日常检查", "某网吧", "网吧", 2, "未发现问题"]
    write_xlsx(root / "inspections/2024-03.xlsx", {"S": [HEADER, visit]})
    write_xlsx(root / "inspections/2024-04.xlsx", {"S": [HEADER, ["2024-04-02", *visit[1:]]]})
    write_csv(root / "inspections/2024-05.csv", [HEADER, ["2024-05-06", *visit[1:]], ["2024-05-07", *visit[1:]]])
    (root / "inspections/说明.txt").write_text("not a ledger", encoding="utf-8")
    return root


def env_without_width() -> dict[str, str]:
    """The test's environment without COLUMNS/LINES, so a console falls back to its defaults (80)."""
    return {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR")}


def test_in_a_pipe_each_stage_and_batch_is_one_plain_unwrapped_line(inbox, tmp_path):
    warehouse = tmp_path / "warehouse" / "tally.duckdb"
    done = subprocess.run([TALLY, "run", "--inbox", str(inbox), "--warehouse", str(warehouse)],
                          capture_output=True, text=True, env=env_without_width(), timeout=HANG_GUARD_S)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert not ANSI.search(done.stderr), done.stderr  # no colour, no cursor moves in a log
    # Every stage in order, Chinese and English, numbered from the one list of stages.
    said = [line for line in lines if line.startswith("阶段 stage")]
    assert said[0] == "阶段 stage 盘点仓库 · survey"
    assert said[1:3] == ["阶段 stage 1/9 准备副本 · open", "阶段 stage 2/9 查找新文件 · discover"]
    assert "阶段 stage 3/9 读取 · extract: 文件 files 4/4 · 行 rows 4" in said  # one batch: 4 files, 4 rows
    assert said[-6:] == [f"阶段 stage {i}/9 {s.label}" for i, s in enumerate(STAGES, 1)][-6:]
    # The summary's lines whole, though wider than 80 columns (CJK characters take two).
    assert SUMMARY[0] in lines and SUMMARY[1] in lines, lines
    assert any(line.startswith("退回 rejected inspections/说明.txt: ") for line in lines), lines


def read_terminal(fd: int) -> bytes:
    """Read what the child writes to its terminal until it closes it."""
    seen = b""
    while True:
        ready, _, _ = select.select([fd], [], [], HANG_GUARD_S)
        if not ready:
            return seen
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child exited and closed the terminal
            return seen
        if not chunk:
            return seen
        seen += chunk


def test_on_a_terminal_a_progress_bar_shows_stage_files_and_rows(inbox, tmp_path):
    warehouse = tmp_path / "warehouse" / "tally.duckdb"
    env = env_without_width() | {"TERM": "xterm-256color", "COLUMNS": "160"}
    pid, fd = pty.fork()
    if pid == 0:  # the child: `tally run` with the pty as its terminal
        os.execve(TALLY, [TALLY, "run", "--inbox", str(inbox), "--warehouse", str(warehouse)], env)
    try:
        raw = read_terminal(fd)
    finally:
        os.close(fd)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, raw.decode("utf-8", "replace")
    shown = raw.decode("utf-8", "replace")
    assert "\x1b[" in shown  # drawn in place, with colour
    frames = [f.strip() for f in re.split(r"[\r\n]", ANSI.sub("", shown)) if f.strip()]
    bars = [f for f in frames if f.startswith("阶段 stage")]
    # Each stage is drawn, with the files read of those to read and the rows read so far.
    for i, stage in enumerate(STAGES, 1):
        assert any(f.startswith(f"阶段 stage {i}/9 {stage.label} ") for f in bars), (stage.name, bars)
    assert re.search(r"^阶段 stage 9/9 发布 · publish ━+ 4/4 文件 files · 4 行 rows ", bars[-1]), bars[-1]
    # The bar is gone at the end (transient); the summary stays.
    assert frames[-3:-1] == list(SUMMARY), frames[-4:]


def test_plain_lines_count_files_and_rows_across_batches(inbox, tmp_path):
    buffer = io.StringIO()
    console = Console(file=buffer, width=40, force_terminal=False)
    with RunProgress(console) as shown:
        run_pipeline(inbox, tmp_path / "w" / "tally.duckdb", batch_size=2, progress=shown.file, call=shown.call)
    lines = buffer.getvalue().splitlines()
    batches = [line for line in lines if "读取 · extract" in line]
    # Files go in load order, two to a batch: rows 1 + 1, then 2 + 0 (the text file has none).
    assert batches == ["阶段 stage 3/9 读取 · extract: 文件 files 2/4 · 行 rows 2",
                       "阶段 stage 3/9 读取 · extract: 文件 files 4/4 · 行 rows 4"]
    assert (shown.files_done, shown.files_total, shown.rows) == (4, 4, 4)
