"""No file can stop a run: readers in bounded worker processes, failures that are not the
file's fault retried by the next run, the latest submission of a path wins, a rejected file
keeps its name's period, and only regular files inside the inbox are read."""

from __future__ import annotations

import os
import pickle
import signal
import socket
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import pebble
import pytest
from ledgerfiles import write_csv, write_xlsx

from flows.errors import ReadFailed, Rejected
from flows.extract import inbox, isolation
from flows.load.loader import RunSummary, close_run
from flows.load.warehouse import connect
from flows.report.problem_report import problem_rows
from flows.run import pipeline, stages

HEADER = ["序号", "检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "执法人员", "检查结果"]
FIGURES_SQL = ("SELECT code, value FROM indicators WHERE year = 2024 "
               "AND code IN ('venue_inspections', 'inspector_person_times') ORDER BY code")
# Low bounds for the tests: a far cell or a zip bomb must fail fast, and clean small files fit.
SMALL = dict(reader_memory_mb=1024, file_timeout_s=120)


def inspections(people: list[int], month: int = 3) -> list[list[object]]:
    rows = [[i, f"2024-{month:02d}-0{i}", "日常检查", f"场所{i}", "网吧", n, "张三、李四", "未发现问题"]
            for i, n in enumerate(people, 1)]
    return [HEADER, *rows]


def write_month(inbox: Path, month: int, people: list[int], name: str | None = None) -> Path:
    path = inbox / "inspections" / (name or f"2024-{month:02d}.xlsx")
    return write_xlsx(path, {"S": inspections(people, month)})


def figures(warehouse: Path) -> dict[str, float]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {code: float(value) for code, value in con.execute(FIGURES_SQL).fetchall()}


def expected(*people: int) -> dict[str, float]:
    return {"inspector_person_times": float(sum(people)), "venue_inspections": float(len(people))}


def versions(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "SELECT path, status, failure, reason FROM file_versions ORDER BY version_id"
        ).fetchall()


def run(inbox: Path, warehouse: Path, **bounds) -> pipeline.RunResult:
    return pipeline.run_pipeline(inbox, warehouse, checks=(), **{**SMALL, **bounds})


# Workbooks no writer produces: raw XML parts in a zip.

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
SHEET_OPEN = ('<?xml version="1.0" encoding="UTF-8"?>'
              '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
SHEET_CLOSE = "</sheetData></worksheet>"


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def raw_xlsx(path: Path, rows_xml: str | None = None, *, repeat: str = "", times: int = 0) -> Path:
    """Write a one-sheet .xlsx from raw XML: `rows_xml`, then `repeat` written `times` times."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write((SHEET_OPEN + (rows_xml or "")).encode())
            chunk = (repeat * max(1, (1 << 20) // max(len(repeat), 1))).encode()
            per_chunk = max(1, (1 << 20) // max(len(repeat), 1))
            for _ in range(times // per_chunk):
                sheet.write(chunk)
            sheet.write((repeat * (times % per_chunk)).encode())
            sheet.write(SHEET_CLOSE.encode())
    return path


def far_cell_workbook(path: Path) -> Path:
    """A clean-looking table with a few cells far out at XFD1048550… (Excel's Solver writes there)."""
    header = "".join(inline(f"{col}1", text) for col, text in zip("ABCDEFGH", HEADER, strict=True))
    data = "".join(inline(f"{col}2", str(v)) for col, v in
                   zip("ABCDEFGH", [1, "2024-04-01", "日常检查", "场所1", "网吧", 2, "张三", "未发现问题"],
                       strict=True))
    far = "".join(f'<row r="{r}"><c r="XFD{r}"><v>1</v></c></row>' for r in range(1048550, 1048553))
    return raw_xlsx(path, f'<row r="1">{header}</row><row r="2">{data}</row>{far}')


def zip_bomb(path: Path, inflated_mb: int = 300) -> Path:
    """An .xlsx of a few hundred KB whose sheet XML inflates to `inflated_mb` MB of cells."""
    row = "<row>" + "<c><v>1</v></c>" * 32 + "</row>"
    return raw_xlsx(path, repeat=row, times=(inflated_mb << 20) // len(row))


# 6 — the proof run


def test_a_far_cell_file_and_a_zip_bomb_are_rejected_and_the_clean_files_load(tmp_path: Path) -> None:
    inbox, warehouse = tmp_path / "inbox", tmp_path / "wh" / "tally.duckdb"
    write_month(inbox, 3, [2, 3])
    write_csv(inbox / "inspections" / "2024-05.csv", inspections([4], month=5))
    far_cell_workbook(inbox / "inspections" / "2024-04.xlsx")
    bomb = zip_bomb(inbox / "inspections" / "2024-06.xlsx")
    assert bomb.stat().st_size < 2 << 20  # a few hundred KB that inflate to 300 MB

    result = run(inbox, warehouse)

    assert result.outcome == "completed"
    assert figures(warehouse) == expected(2, 3, 4)
    rejected = {path: reason for path, _, reason in result.summary.rejected}
    assert set(rejected) == {"inspections/2024-04.xlsx", "inspections/2024-06.xlsx"}
    assert all(rejected.values())
    rows = {path: (status, failure) for path, status, failure, _ in versions(warehouse)}
    assert rows["inspections/2024-03.xlsx"] == ("loaded", None)
    assert rows["inspections/2024-05.csv"] == ("loaded", None)
    # Verdicts on the content: remembered, the next run finds nothing new.
    assert rows["inspections/2024-04.xlsx"] == ("rejected", None)
    assert rows["inspections/2024-06.xlsx"] == ("rejected", None)
    again = run(inbox, warehouse)
    assert again.summary.files_unchanged == 4 and again.summary.files_rejected == 0


def test_a_reader_that_dies_twice_is_a_verdict_on_the_content(ws, monkeypatch) -> None:
    monkeypatch.setattr(isolation, "HERE_SUFFIXES", (".csv",))  # the workbook goes to a worker
    write_month(ws.inbox, 3, [5])
    [source] = inbox.discover(ws.inbox)
    pool = isolation.ReaderPool(isolation.Limits(**SMALL))
    # A worker that dies on every task, as calamine's abort kills it: a task that aborts.
    pool.task = isolation.abort_reader
    scheduled = []
    real = isolation.ReaderPool._schedule
    monkeypatch.setattr(isolation.ReaderPool, "_schedule",
                        lambda self, sources: scheduled.append(len(sources)) or real(self, sources))
    try:
        [(got, read)] = list(pool.read([source]))
    finally:
        pool.close()
    assert got is source and scheduled == [1, 1]  # once, then once more alone in a fresh worker
    assert type(read) is Rejected and read.rule == "reader_crash"
    assert read.reason.startswith(f"读取此文件时读取程序异常终止（退出码 -{signal.SIGABRT}），单独重试仍然如此，未读取")


def test_a_task_of_several_files_that_dies_is_retried_file_by_file(ws, monkeypatch) -> None:
    monkeypatch.setattr(isolation, "HERE_SUFFIXES", (".csv",))  # the workbooks go to a worker
    for month in (3, 4, 5):
        write_month(ws.inbox, month, [month])
    sources = inbox.discover(ws.inbox)
    pool = isolation.ReaderPool(isolation.Limits(**SMALL))
    real = isolation.ReaderPool._schedule
    scheduled = []

    def first_task_dies(self, files):
        scheduled.append(len(files))
        self.task = isolation.abort_reader if len(scheduled) == 1 else isolation.read_batch
        return real(self, files)

    monkeypatch.setattr(isolation.ReaderPool, "_schedule", first_task_dies)
    try:
        reads = list(pool.read(sources))
    finally:
        pool.close()
    assert scheduled == [3, 1, 1, 1]
    assert [type(r) for _, r in reads] == [list, list, list], [vars(r) if isinstance(r, Exception) else "read" for _, r in reads]
    assert [s.rel for s, _ in reads] == [s.rel for s in sources]


def test_a_file_above_max_file_mb_is_rejected_before_it_is_read(tmp_path: Path) -> None:
    inbox, warehouse = tmp_path / "inbox", tmp_path / "wh" / "tally.duckdb"
    big = write_month(inbox, 3, list(range(1, 9)))
    write_csv(inbox / "inspections" / "2024-05.csv", inspections([4], month=5))
    limit_mb = (big.stat().st_size - 1) / (1 << 20)
    result = run(inbox, warehouse, max_file_mb=limit_mb)
    [(path, _sheet, reason)] = result.summary.rejected
    assert path == "inspections/2024-03.xlsx"
    size_mb = big.stat().st_size / (1 << 20)
    assert reason.startswith(f"文件大小 {size_mb:.1f} MB，超过上限 {limit_mb:g} MB，未读取")
    assert figures(warehouse) == expected(4)


def test_a_read_that_times_out_is_retried_by_the_next_run(tmp_path: Path, monkeypatch) -> None:
    inbox, warehouse = tmp_path / "inbox", tmp_path / "wh" / "tally.duckdb"
    write_month(inbox, 3, [2, 3])
    # A reader that never finishes: the worker is stopped and the file recorded as failed.
    monkeypatch.setattr(isolation, "HERE_SUFFIXES", (".csv",))  # the workbook goes to a worker
    monkeypatch.setattr(isolation, "read_batch", isolation.hang_reader)
    first = run(inbox, warehouse, file_timeout_s=1)
    monkeypatch.undo()
    [(_, _, reason)] = first.summary.rejected
    assert reason.startswith("读取此文件超过 1 秒仍未完成，已中止，下次运行会重新读取")
    assert [v[1:3] for v in versions(warehouse)] == [("rejected", "timeout")]
    second = run(inbox, warehouse)
    assert second.summary.files_loaded == 1
    assert figures(warehouse) == expected(2, 3)


# 2 — only a verdict about the content is remembered by the content


def ingest_with(ws, before_read) -> RunSummary:
    """Run the ingest stages one by one, calling `before_read(sources)` between listing and reading."""
    ctx = stages.Context(ws.inbox, ws.warehouse, aside=False, steps=stages.Steps(checks=()),
                         options=stages.RunOptions.from_settings(stages.Settings(), **SMALL))
    ctx.con = connect(ws.warehouse)
    try:
        stages.begin(ctx)
        discovered = stages.discover_new(ctx, stages.Look())
        before_read(discovered.sources)
        try:
            extracted = stages.extract(ctx, discovered.sources)
        finally:
            stages.close_readers_of(ctx)
        loaded = stages.load(ctx, stages.validate(ctx, extracted.prepared))
        summary = stages.add_summaries(stages.add_summaries(discovered.summary, extracted.summary),
                                       loaded.summary)
        close_run(ctx.con, summary, "completed", None)
        ctx.con.execute("COMMIT")
        return summary
    finally:
        ctx.con.close()


def test_a_file_moved_away_while_the_run_reads_loads_on_the_next_run(ws) -> None:
    path = write_month(ws.inbox, 3, [2, 3])
    aside = path.with_name("moving")

    def move_away(_sources) -> None:
        path.rename(aside)

    first = ingest_with(ws, move_away)
    assert first.files_rejected == 1
    [(_, status, failure, reason)] = versions(ws.warehouse)
    assert (status, failure) == ("rejected", "unreadable")
    assert reason.startswith("文件暂时无法打开（No such file or directory），本次未读取，下次运行会重新读取")
    aside.rename(path)  # back, with the same bytes

    second = ws.run(checks=(), **SMALL)
    assert (second.files_loaded, second.files_unchanged, second.rows_loaded) == (1, 0, 2)
    assert ws.one("SELECT sum(inspectors) FROM raw.inspections") == 5


def test_a_file_still_being_copied_is_read_again_by_the_next_run(ws) -> None:
    path = write_month(ws.inbox, 3, [2, 3])

    def still_copying(_sources) -> None:
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))

    first = ingest_with(ws, still_copying)
    assert first.files_rejected == 1
    [(_, status, failure, reason)] = versions(ws.warehouse)
    assert (status, failure) == ("rejected", "changed")
    assert "可能仍在复制中" in reason

    second = ws.run(checks=(), **SMALL)
    assert second.files_loaded == 1
    assert ws.one("SELECT sum(inspectors) FROM raw.inspections") == 5


def test_a_content_verdict_is_remembered(ws) -> None:
    write_csv(ws.path("inspections/2024-03.csv"), [["名称"], ["x"]])
    assert ws.run(checks=(), **SMALL).files_rejected == 1
    again = ws.run(checks=(), **SMALL)
    assert (again.files_rejected, again.files_unchanged) == (0, 1)


def test_rejections_pickle_with_their_rule_and_cause() -> None:
    plain = pickle.loads(pickle.dumps(Rejected("文件为空", rule="empty_file")))
    assert (type(plain), plain.reason, plain.rule) == (Rejected, "文件为空", "empty_file")
    failed = pickle.loads(pickle.dumps(ReadFailed("超时", rule="timeout", cause="timeout")))
    assert (type(failed), failed.reason, failed.rule, failed.cause) == (ReadFailed, "超时", "timeout", "timeout")


# 7a — the latest submission wins, whatever its hash


def test_a_file_restored_to_an_earlier_version_is_current_again(tmp_path: Path) -> None:
    inbox, warehouse = tmp_path / "inbox", tmp_path / "wh" / "tally.duckdb"
    path = write_month(inbox, 3, [2, 3])
    version_a = path.read_bytes()
    run(inbox, warehouse)
    assert figures(warehouse) == expected(2, 3)

    write_month(inbox, 3, [7])
    run(inbox, warehouse)
    assert figures(warehouse) == expected(7)

    path.write_bytes(version_a)  # the clerk restores the first version
    result = run(inbox, warehouse)
    assert (result.summary.files_loaded, result.summary.files_superseded) == (1, 1)
    assert figures(warehouse) == expected(2, 3)
    assert [v[1] for v in versions(warehouse)] == ["superseded", "superseded", "loaded"]


# 7b — a rejected file keeps the period its name gives


def test_a_rejected_file_is_listed_under_the_year_its_name_gives(ws) -> None:
    write_csv(ws.path("inspections/2024-03.csv"), [["名称"], ["x"]])
    write_csv(ws.path("inspections/2024年执法检查台账.xlsx"), [["x"]])  # not a workbook
    write_csv(ws.path("staff/执法人员名册2024-12-31.csv"), [["名称"], ["x"]])
    ws.run(checks=(), **SMALL)
    rows = ws.query("SELECT path, ledger, period, period_start FROM file_versions ORDER BY path")
    assert rows == [
        ("inspections/2024-03.csv", "inspections", "2024-03", date(2024, 3, 1)),
        ("inspections/2024年执法检查台账.xlsx", "inspections", "2024", date(2024, 1, 1)),
        ("staff/执法人员名册2024-12-31.csv", "staff", "2024-12-31", date(2024, 12, 31)),
    ]
    with duckdb.connect(str(ws.warehouse), read_only=True) as con:
        listed = problem_rows(con, 2024)
        assert sorted(listed["path"].to_list()) == [r[0] for r in rows]
        assert problem_rows(con, 2026).height == 0


# 5 — only regular files inside the inbox are read


def test_only_regular_files_inside_the_inbox_are_read(tmp_path: Path, monkeypatch) -> None:
    inbox, warehouse = tmp_path / "inbox", tmp_path / "wh" / "tally.duckdb"
    write_month(inbox, 3, [2, 3])
    outside = tmp_path / "secret" / "2024-04.csv"
    write_csv(outside, [["王小明", "640422199001011234", "13812345678"]])
    folder = inbox / "inspections"
    (folder / "2024-04.csv").symlink_to(outside)
    (folder / "2024-05.xlsx").symlink_to(folder / "2024-03.xlsx")
    (folder / "2024-06.csv").symlink_to(tmp_path / "nowhere.csv")
    os.mkfifo(folder / "2024-07.csv")
    with socket.socket(socket.AF_UNIX) as sock:
        monkeypatch.chdir(folder)  # a socket's path is limited to 108 bytes: bind it relative
        sock.bind("2024-08.csv")
        write_month(tmp_path / "elsewhere", 9, [9])
        (inbox / "county-b").symlink_to(tmp_path / "elsewhere", target_is_directory=True)

        result = run(inbox, warehouse)

        assert figures(warehouse) == expected(2, 3)
        reasons = {path: reason for path, _, reason in result.summary.rejected}
        link = "这是符号链接（快捷方式），不是普通文件，不会读取"
        assert {p: r.split("：")[0] for p, r in reasons.items()} == {
            "inspections/2024-04.csv": link,
            "inspections/2024-05.xlsx": link,
            "inspections/2024-06.csv": link,
            "inspections/2024-07.csv": "这是命名管道（FIFO），不是普通文件，不会读取",
            "inspections/2024-08.csv": "这是套接字，不是普通文件，不会读取",
            "county-b": link,
        }
        assert not any("王小明" in r or "6404" in r for r in reasons.values())
        recorded = {path: status for path, status, _, _ in versions(warehouse)}
        assert all(recorded[p] == "rejected" for p in reasons)
        # Listed once: the next run finds nothing new.
        again = run(inbox, warehouse)
        assert again.summary.files_rejected == 0 and again.summary.files_unchanged == 7


def test_a_folder_that_cannot_be_listed_is_said_and_retried(ws, monkeypatch) -> None:
    write_month(ws.inbox, 3, [2])
    (ws.inbox / "county-b" / "inspections").mkdir(parents=True)
    real_walk = os.walk

    def walk(top, onerror=None, **kwargs):
        for root, dirs, files in real_walk(top, onerror=onerror, **kwargs):
            if Path(root).name == "county-b":
                onerror(PermissionError(13, "Permission denied", root))
                dirs[:] = []
                continue
            yield root, dirs, files

    monkeypatch.setattr(inbox.os, "walk", walk)
    summary = ws.run(checks=(), **SMALL)
    assert (summary.files_loaded, summary.rejected) == (1, [
        ("county-b", None, "文件暂时无法读取（Permission denied），本次未读取，下次运行会重新读取")])
    assert ws.one("SELECT failure FROM file_versions WHERE path = 'county-b'") == "unreadable"


def test_a_run_that_finds_nothing_new_starts_no_reader(ws, monkeypatch) -> None:
    write_month(ws.inbox, 3, [2])
    ws.run(checks=(), **SMALL)

    def no_pool(*_args, **_kwargs):
        raise AssertionError("a reader pool was started")

    monkeypatch.setattr(pebble, "ProcessPool", no_pool)
    assert ws.run(checks=(), **SMALL).files_unchanged == 1


@pytest.mark.parametrize(("sizes", "expected"), [
    ([100], [[100]]),
    ([100] * 40, [[100] * 16, [100] * 16, [100] * 8]),
    # A large file goes alone, in its place: the files are recorded in the order they are read.
    ([100, 100, 3 << 20, 100, 100], [[100, 100], [3 << 20], [100, 100]]),
    ([1 << 20, 1 << 20, 1 << 20], [[1 << 20, 1 << 20], [1 << 20]]),
])
def test_small_files_go_several_to_a_task_in_order(sizes: list[int], expected: list[list[int]]) -> None:
    sources = [type("S", (), {"size": s, "i": i})() for i, s in enumerate(sizes)]
    tasks = isolation.tasks_of(sources)
    assert [[s.size for s in t] for t in tasks] == expected
    assert [s.i for t in tasks for s in t] == list(range(len(sizes)))


def test_files_are_recorded_in_order_around_a_large_one(tmp_path: Path, monkeypatch) -> None:
    inbox, warehouse = tmp_path / "inbox", tmp_path / "wh" / "tally.duckdb"
    monkeypatch.setattr(isolation, "BATCH_BYTES", 1000)  # the workbooks are "large", the CSVs not
    monkeypatch.setattr(isolation, "HERE_SUFFIXES", (".csv",))  # and read by a worker
    write_csv(inbox / "inspections" / "2024-01.csv", inspections([1], month=1))
    write_month(inbox, 2, [2])
    write_csv(inbox / "relic_patrols" / "2024-03.csv", [["x"]])
    write_month(inbox, 4, [4])
    run(inbox, warehouse)
    rows = {path: status for path, status, _, _ in versions(warehouse)}
    assert rows == {"inspections/2024-01.csv": "loaded", "inspections/2024-02.xlsx": "loaded",
                    "relic_patrols/2024-03.csv": "rejected", "inspections/2024-04.xlsx": "loaded"}
    assert figures(warehouse) == expected(1, 2, 4)
