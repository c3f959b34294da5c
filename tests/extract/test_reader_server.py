"""The readers are imported once, in the fork server, not by each reader process: a worker
starts with polars and calamine loaded (mapped from the server it was forked from) and its
polars pool as wide as a reader's."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
from ledgerfiles import write_xlsx

from flows.extract import isolation
from flows.extract.inbox import discover

HEADER = ["序号", "检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "执法人员", "检查结果"]


def mapped(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def test_a_worker_starts_with_the_readers_imported_by_its_fork_server(tmp_path: Path) -> None:
    pool = isolation.ReaderPool(isolation.Limits(reader_memory_mb=2048), workers=1)
    try:
        # os.getpid imports nothing: whatever the worker has loaded, it had before its first task.
        pid = pool._started().schedule(os.getpid).result(timeout=120)
        server = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        for maps in (mapped(pid), mapped(server)):
            assert "_polars_runtime" in maps
            assert "fastexcel" in maps
        width = pool._started().schedule(pl.thread_pool_size).result(timeout=120)
        assert width == int(os.environ.get("POLARS_MAX_THREADS", isolation.THREADS_PER_WORKER))
        # And the worker reads as before.
        write_xlsx(tmp_path / "inspections" / "2024-03.xlsx",
                   {"3月": [HEADER, [1, "2024-03-01", "日常检查", "场所1", "网吧", 3, "张三", "未发现问题"]]})
        [(_, read)] = list(pool.read(discover(tmp_path)))
        assert read[0].unit.grid.frame["c5"].to_list() == ["出动人次", "3"]
    finally:
        pool.close()
