"""Each bad input of the templates' §6 gets its own clear reason, and the run goes on."""

from __future__ import annotations

import zipfile

import pytest
from ledgerfiles import write_csv, write_xlsx

HEADER = ["检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "检查结果"]
ROW = ["2024-03-05", "日常检查", "某网吧", "网吧", 2, "未发现问题"]


def rejected(ws) -> list[tuple[str, str]]:
    return ws.query(
        "SELECT path, reason FROM file_versions WHERE status = 'rejected' ORDER BY path"
    )


def test_a_rejected_file_does_not_stop_the_others(ws):
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"S": [HEADER, ROW]})
    ws.path("inspections/2024-04.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    summary = ws.run()
    assert (summary.files_loaded, summary.files_rejected, summary.rows_loaded) == (1, 1, 1)
    assert "已损坏" in rejected(ws)[0][1]


@pytest.mark.parametrize(
    ("rel", "content", "words"),
    [
        ("inspections/2024-03.xlsx", b"", "文件为空"),
        ("inspections/2024-03.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "已加密"),
        ("inspections/2024-03.xls", b"not an excel file at all", "不是 Excel 工作簿"),
        ("inspections/2024-03.docx", b"PK\x03\x04", "文件类型「.docx」不受支持"),
        ("inspections/2024-03.csv", b"PK\x03\x04xxxx", "内容是 Excel 工作簿"),
        ("inspections/2024-03.csv", b"\xff\xfe\x00\xd8garbage\x81", "编码"),
        ("检查台账/2024-03.csv", "检查日期\n".encode(), "未知的台账文件夹「检查台账」"),
        ("2024-03.csv", "检查日期\n".encode(), "文件不在台账文件夹中"),
        ("inspections/三月台账.csv", "检查日期\n".encode(), "文件名中找不到所属月份"),
        ("staff/执法人员名录.csv", "姓名,岗位\n".encode(), "文件名中找不到日期或年份"),
    ],
)
def test_file_rejections_say_why(ws, rel, content, words):
    path = ws.path(rel)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    summary = ws.run()
    assert summary.files_rejected == 1
    [(got_path, reason)] = rejected(ws)
    assert got_path == rel
    assert words in reason, reason


def test_a_corrupt_zip_named_xlsx(ws):
    path = ws.path("inspections/2024-03.xlsx")
    path.parent.mkdir(parents=True)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    ws.run()
    assert "已损坏" in rejected(ws)[0][1]


def test_no_header_row_names_the_missing_headers_and_the_closest_row(ws):
    write_csv(
        ws.path("inspections/2024-03.csv"),
        [
            ["执法检查台账"],
            ["日期", "检查对象", "场所类型", "人数", "结果"],
            ["2024-03-05", "某网吧", "网吧", "2", "合格"],
        ],
    )
    ws.run()
    [(_, reason)] = rejected(ws)
    assert "找不到执法检查台账的表头行" in reason
    for missing in ("「检查类型」", "「出动人次」", "「检查结果」"):
        assert missing in reason
    assert "第2行：日期、检查对象、场所类型、人数、结果" in reason


def test_rejected_files_are_not_retried_until_they_change(ws):
    ws.path("inspections").mkdir()
    ws.path("inspections/2024-03.xlsx").write_bytes(b"")
    ws.run()
    assert ws.run().files_rejected == 0
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"S": [HEADER, ROW]})
    assert ws.run().files_loaded == 1


def test_office_lock_files_and_hidden_files_are_not_submissions(ws):
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"S": [HEADER, ROW]})
    ws.path("inspections/~$2024-03.xlsx").write_bytes(b"lock")
    ws.path("inspections/.DS_Store").write_bytes(b"x")
    summary = ws.run()
    assert (summary.files_loaded, summary.files_rejected) == (1, 0)


def test_a_read_that_fails_unexpectedly_in_a_worker_is_tried_again_before_rejecting(ws, monkeypatch):
    from concurrent.futures import Future

    from flows.errors import ReadFailed
    from flows.extract import isolation

    monkeypatch.setattr(isolation, "HERE_SUFFIXES", (".csv",))  # the workbook goes to a worker
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"S": [HEADER, ROW]})
    real, calls = isolation.ReaderPool._schedule, []

    def flaky(pool, sources):
        # The first task comes back with an unexpected failure, as a worker's read once did
        # ("dictionary changed size during iteration"); the file is read again, alone.
        calls.append([s.rel for s in sources])
        if len(calls) > 1:
            return real(pool, sources)
        future = Future()
        future.set_result([isolation.unexpected(RuntimeError("dictionary changed size during iteration"))
                           for _ in sources])
        assert isinstance(future.result()[0], ReadFailed)
        return future

    monkeypatch.setattr(isolation.ReaderPool, "_schedule", flaky)
    summary = ws.run()
    assert calls == [["inspections/2024-03.xlsx"]] * 2
    assert (summary.files_loaded, summary.files_rejected, summary.rows_loaded) == (1, 0, 1)
