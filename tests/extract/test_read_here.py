"""CSVs (and small .xlsx files) are read in the run's own process, every other file in a worker;
the workers read the next batch while the run parses this one, and the files are recorded in order.
(Small .xlsx files are read in the run's process within bounds: `test_read_here_xlsx.py`;
here they stand for a file a worker reads, as HERE_SUFFIXES is narrowed to CSVs.)"""

from __future__ import annotations

from pathlib import Path

import duckdb
from ledgerfiles import write_csv, write_xlsx

from flows.extract import inbox, isolation
from flows.run import pipeline

HEADER = ["序号", "检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "执法人员", "检查结果"]
SMALL = dict(reader_memory_mb=1024, file_timeout_s=120)


def inspections(people: list[int], month: int) -> list[list[object]]:
    return [HEADER, *([i, f"2024-{month:02d}-0{i}", "日常检查", f"场所{i}", "网吧", n, "张三", "未发现问题"]
                      for i, n in enumerate(people, 1))]


def counted_schedules(monkeypatch) -> list[list[str]]:
    """Record the files of every task handed to a worker."""
    calls: list[list[str]] = []
    real = isolation.ReaderPool._schedule

    def schedule(self, sources):
        calls.append([s.rel for s in sources])
        return real(self, sources)

    monkeypatch.setattr(isolation.ReaderPool, "_schedule", schedule)
    return calls


def test_a_small_csv_is_read_here_and_a_workbook_in_a_worker(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(isolation, "HERE_SUFFIXES", (".csv",))
    write_csv(tmp_path / "inspections" / "2024-03.csv", inspections([2, 3], 3))
    write_xlsx(tmp_path / "inspections" / "2024-04.xlsx", {"S": inspections([4], 4)})
    sources = sorted(inbox.discover(tmp_path), key=lambda s: s.rel)
    calls = counted_schedules(monkeypatch)
    pool = isolation.ReaderPool(isolation.Limits(**SMALL))
    try:
        reads = list(pool.read(sources))
    finally:
        pool.close()
    assert calls == [["inspections/2024-04.xlsx"]]
    assert [s.rel for s, _ in reads] == ["inspections/2024-03.csv", "inspections/2024-04.xlsx"]
    [csv_unit] = reads[0][1]
    assert csv_unit.unit.grid.frame["c5"].to_list() == ["出动人次", "2", "3"]
    [xlsx_unit] = reads[1][1]
    assert xlsx_unit.unit.grid.frame["c5"].to_list() == ["出动人次", "4"]


def test_a_run_of_small_csvs_starts_no_worker(tmp_path: Path, monkeypatch) -> None:
    inbox, warehouse = tmp_path / "inbox", tmp_path / "wh" / "tally.duckdb"
    write_csv(inbox / "inspections" / "2024-03.csv", inspections([2, 3], 3))
    calls = counted_schedules(monkeypatch)
    started = []
    monkeypatch.setattr(isolation.ReaderPool, "warm", lambda self: started.append(self))
    result = pipeline.run_pipeline(inbox, warehouse, checks=(), **SMALL)
    assert (result.summary.files_loaded, result.summary.rows_loaded) == (1, 2)
    assert calls == [] and started == []


def test_a_csv_whose_grid_is_beyond_the_bound_is_read_in_a_worker(tmp_path: Path, monkeypatch) -> None:
    # A title line of many commas over the table: its grid is padded to that width.
    path = tmp_path / "inspections" / "2024-03.csv"
    path.parent.mkdir(parents=True)
    body = "\n".join(",".join(str(c) for c in row) for row in inspections([2, 3], 3))
    path.write_text("," * 300 + "\n" + body + "\n", encoding="utf-8")
    monkeypatch.setattr(isolation, "HERE_CELLS", 1000)  # 301 columns × 5 lines is beyond it
    [source] = inbox.discover(tmp_path)
    calls = counted_schedules(monkeypatch)
    pool = isolation.ReaderPool(isolation.Limits(**SMALL))
    try:
        [(got, read)] = list(pool.read([source]))
    finally:
        pool.close()
    assert got is source and calls == [["inspections/2024-03.csv"]]
    [unit] = read
    assert unit.unit.grid.width == 301 and unit.unit.grid.frame["c5"].to_list()[1:] == ["出动人次", "2", "3"]


def test_workers_follow_the_bytes_that_need_one(tmp_path: Path) -> None:
    def files(**sizes: int) -> list[isolation.Listed]:
        return [isolation.Listed(tmp_path / name.replace("_", "."), size) for name, size in sizes.items()]

    assert isolation.workers_for(files(a_csv=1000, b_csv=2000)) == 0
    assert isolation.workers_for(files(a_csv=5000, b_xls=1000)) == 1
    assert isolation.workers_for(files(a_csv=1000, b_xls=5000)) == 2
    assert isolation.workers_for(files(a_csv=1000, b_xlsx=5000)) == 0  # a small .xlsx is read here
    assert isolation.workers_for(files(b_xlsx=isolation.HERE_BYTES + 1)) == 2
    # A big CSV is read here too (a city's monthly file): no worker for it.
    assert isolation.workers_for(files(a_csv=30 << 20)) == 0
    assert isolation.workers_for(files(a_csv=30 << 20, b_xls=1000)) == 1
    # One beyond HERE_MAX_BYTES goes to a worker, bounded in memory like a workbook.
    assert isolation.workers_for(files(a_csv=isolation.HERE_MAX_BYTES + 1)) == 2
    write_csv(tmp_path / "inbox" / "inspections" / "2024-03.csv", inspections([2], 3))
    [listed] = isolation.listed(tmp_path / "inbox")
    assert listed.path.name == "2024-03.csv" and listed.size == listed.path.stat().st_size


def test_files_queued_ahead_are_read_once(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(isolation, "HERE_SUFFIXES", (".csv",))
    for month in (3, 4, 5):
        write_xlsx(tmp_path / "inspections" / f"2024-{month:02d}.xlsx", {"S": inspections([month], month)})
    sources = sorted(inbox.discover(tmp_path), key=lambda s: s.rel)
    calls = counted_schedules(monkeypatch)
    pool = isolation.ReaderPool(isolation.Limits(**SMALL))
    try:
        pool.prefetch(sources[:2])
        pool.prefetch(sources[:2])  # twice: still one task
        assert calls == [["inspections/2024-03.xlsx", "inspections/2024-04.xlsx"]]
        reads = list(pool.read(sources[:2])) + list(pool.read(sources[2:]))
    finally:
        pool.close()
    assert calls == [["inspections/2024-03.xlsx", "inspections/2024-04.xlsx"], ["inspections/2024-05.xlsx"]]
    assert [s.rel for s, _ in reads] == [s.rel for s in sources]
    assert [r[0].unit.grid.frame["c5"].to_list()[1] for _, r in reads] == ["3", "4", "5"]


def test_batches_read_ahead_load_as_one_batch_does(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(isolation, "HERE_SUFFIXES", (".csv",))  # the workbooks read ahead by workers
    def inbox_at(root: Path) -> Path:
        for month in range(1, 8):
            path = root / "inspections" / f"2024-{month:02d}"
            if month % 2:
                write_xlsx(path.with_suffix(".xlsx"), {"S": inspections([month, 10 + month], month)})
            else:
                write_csv(path.with_suffix(".csv"), inspections([month], month))
        write_csv(root / "relic_patrols" / "2024-03.csv", [["x"]])  # rejected, in its place
        return root

    def loaded(batch_size: int) -> list[tuple]:
        root = tmp_path / f"b{batch_size}"
        warehouse = root / "wh" / "tally.duckdb"
        pipeline.run_pipeline(inbox_at(root / "inbox"), warehouse, checks=(), batch_size=batch_size, **SMALL)
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return con.execute(
                "SELECT path, status, rows_loaded FROM file_versions ORDER BY version_id"
            ).fetchall()

    one_batch = loaded(50)
    assert loaded(2) == one_batch
    assert sum(rows for _, status, rows in one_batch if status == "loaded") == 4 * 2 + 3
