"""One run over an inbox holding one file of each bad kind beside clean files (issue 12's proof).

The run completes, rejects each bad file with a reason that quotes no personal value, loads every
clean row, and keeps rows read = loaded + quarantined + skipped for every accepted file.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
from ledgerfiles import write_csv, write_xlsx
from test_isolation import far_cell_workbook, inspections
from test_readers_real import zip_with_declared_size

from flows.run import pipeline

CASES = ["案件编号", "立案日期", "当事人", "当事人类型", "证件号码", "联系电话", "案由"]
PARTY, PARTY_ID, PHONE = "王小明", "640422199001010017", "13812345678"
NOTE_FIRST = ["备注", "检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "检查结果"]


def build(inbox: Path, outside: Path) -> dict[str, int]:
    """Write the inbox; return the data rows of each file that must load, by path."""
    clean = {}
    write_xlsx(inbox / "inspections" / "2024-03.xlsx", {"S": inspections([2, 3])})
    clean["inspections/2024-03.xlsx"] = 2
    # Item 2: a data column whose cells start like a note.
    rows = [NOTE_FIRST] + [[f"备注：已整改{i}", f"2024-04-0{i}", "日常检查", f"场所{i}", "网吧", 1, "未发现问题"]
                           for i in range(1, 5)]
    write_csv(inbox / "inspections" / "2024-04.csv", rows)
    clean["inspections/2024-04.csv"] = 4
    # Item 11: a 0x1F byte inside a cell, and a zero-width space inside a header.
    unit_sep = inspections([1], month=5)
    unit_sep[1][3] = "场所\x1f1"
    write_csv(inbox / "inspections" / "2024-05.csv", unit_sep)
    clean["inspections/2024-05.csv"] = 1
    zero_width = inspections([1], month=6)
    zero_width[0][1] = "检查\u200b日期"
    write_csv(inbox / "inspections" / "2024-06.csv", zero_width)
    clean["inspections/2024-06.csv"] = 1
    # Item 5: a column the template does not have holds IDs; one row goes back (no 案由).
    write_csv(inbox / "cases" / "2024-03.csv", [
        [*CASES, "身份证号（备查）"],
        ["文罚〔2024〕1号", "2024-03-05", PARTY, "个人", PARTY_ID, PHONE, "无证经营", PARTY_ID],
        ["文罚〔2024〕2号", "2024-03-06", "李四", "个人", "", "", "", PARTY_ID],
    ])
    clean["cases/2024-03.csv"] = 2
    # The bad files.
    far_cell_workbook(inbox / "inspections" / "2024-07.xlsx")  # item 3
    zip_with_declared_size(inbox / "inspections" / "2024-08.xlsx", "xl/worksheets/sheet1.xml", 3 << 30)  # item 3
    write_csv(inbox / "cases" / "2024-04.csv", [  # item 4: no header row, a person's details
        ["文罚〔2024〕3号", "2024-04-05", PARTY, "个人", PARTY_ID, PHONE, "无证经营"]])
    secret = outside / "secret.csv"  # item 9: links out of the inbox, dangling, and a FIFO
    write_csv(secret, [[PARTY, PARTY_ID, PHONE]])
    os.symlink(secret, inbox / "inspections" / "2024-09.csv")
    os.symlink(outside / "gone.csv", inbox / "inspections" / "2024-10.csv")
    os.mkfifo(inbox / "inspections" / "2024-11.csv")
    return clean


def test_one_file_of_each_bad_kind_beside_clean_files(tmp_path: Path) -> None:
    inbox, outside, warehouse = tmp_path / "inbox", tmp_path / "outside", tmp_path / "wh" / "tally.duckdb"
    outside.mkdir()
    clean = build(inbox, outside)

    result = pipeline.run_pipeline(inbox, warehouse, reader_memory_mb=1024, file_timeout_s=120)

    assert result.outcome == "completed"
    rejected = {path: reason for path, _, reason in result.summary.rejected}
    assert set(rejected) == {"inspections/2024-07.xlsx", "inspections/2024-08.xlsx", "cases/2024-04.csv",
                             "inspections/2024-09.csv", "inspections/2024-10.csv", "inspections/2024-11.csv"}
    for reason in rejected.values():
        assert reason
        assert not any(v in reason for v in (PARTY, PARTY_ID, PHONE, "\ufffd", "\x00"))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        accepted = con.execute(
            "SELECT path, rows_read, rows_loaded, rows_quarantined, rows_skipped FROM file_versions "
            "WHERE status = 'loaded' ORDER BY path").fetchall()
        cells = con.execute("SELECT cells FROM quarantined_rows").fetchall()
    assert {path for path, *_ in accepted} == set(clean)
    for path, read, loaded, quarantined, skipped in accepted:
        assert read == loaded + quarantined + skipped, path
        assert loaded + quarantined == clean[path], path  # every data row: loaded or sent back
    assert {path: loaded for path, _, loaded, _, _ in accepted} == {
        **clean, "cases/2024-03.csv": 1}  # the case without 案由 goes back
    assert cells and all(PARTY_ID not in c for (c,) in cells)
