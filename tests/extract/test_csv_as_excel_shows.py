"""A CSV that Excel wrote holds cells as Excel shows them: `6.40422E+17` for an 18-digit ID or
ticket number (its digits lost: the row goes back, and no key or hash is made of it) and `#N/A` for
an error cell (the row goes back with the error text, never read as a blank or a bad date)."""

from __future__ import annotations

from ledgerfiles import write_csv

from flows.extract.readers import csv_grid

HOTLINE = ["工单编号", "受理日期", "诉求类型", "办理时限"]
CASES = ["案件编号", "立案日期", "当事人", "当事人类型", "证件号码", "案由"]


def test_scientific_cells_are_marked_and_plain_numbers_are_not():
    grid = csv_grid(b"a,b,c\n2.02403E+17,1.2E+3,13800000001\n 6.4E+11 ,12,1e+20\n")
    assert grid.marks.select("_row", "col", "kind", "shown").rows() == [
        (2, 0, "lost_digits", "2.02403E+17"), (3, 0, "lost_digits", "6.4E+11"), (3, 2, "lost_digits", "1e+20")]


def test_a_ticket_number_with_lost_digits_is_never_a_register_key(ws):
    write_csv(ws.path("hotline/2024-03.csv"), [
        HOTLINE, ["2.02403E+17", "2024-03-05", "投诉", "2024-03-12"],
        ["2.02403E+17", "2024-03-06", "咨询", "2024-03-13"], ["GD3", "2024-03-07", "咨询", "2024-03-14"]])
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (1, 2)
    assert ws.query("SELECT ticket_no FROM raw.hotline") == [("GD3",)]
    assert ws.query("SELECT row, header, raw_value, rule FROM problems WHERE rule = 'lost_digits' ORDER BY row") == [
        (2, "工单编号", "2.02403E+17", "lost_digits"), (3, "工单编号", "2.02403E+17", "lost_digits")]


def test_two_people_with_a_damaged_id_never_share_a_key(ws):
    write_csv(ws.path("cases/2024-05.csv"), [
        CASES, ["文罚〔2024〕1号", "2024-05-05", "张三", "个人", "6.40422E+17", "无证经营"],
        ["文罚〔2024〕2号", "2024-05-06", "李四", "个人", "6.40422E+17", "无证经营"]])
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (0, 2)
    assert ws.query("SELECT count(*) FROM raw.cases") == [(0,)]
    assert ws.one("SELECT count(*) FROM problems WHERE rule = 'lost_digits'") == 2


def test_an_excel_error_written_into_a_csv_goes_back_with_its_text(ws):
    write_csv(ws.path("hotline/2024-04.csv"), [
        HOTLINE, ["GD1", "#N/A", "投诉", "2024-04-12"], ["#REF!", "2024-04-06", "咨询", "2024-04-13"],
        ["GD3", "2024-04-07", "咨询", "2024-04-14"]])
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (1, 2)
    assert ws.query("SELECT row, header, raw_value, rule FROM problems ORDER BY row") == [
        (2, "受理日期", "#N/A", "excel_error"), (3, "工单编号", "#REF!", "excel_error")]


def test_a_csv_split_by_tabs_or_semicolons_is_rejected_naming_its_separator(ws):
    # Excel and WPS (list separator ",") show each such line in one cell: nothing to load as seen.
    for name, sep in (("2024-05.csv", "\t"), ("2024-06.csv", ";")):
        path = ws.path(f"hotline/{name}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(sep.join(row) for row in [HOTLINE, ["GD1", "2024-05-06", "投诉", "2024-05-13"]]) + "\n",
                        encoding="utf-8")
    ws.run()
    rows = ws.query("SELECT path, reason FROM file_versions WHERE status = 'rejected' ORDER BY path")
    assert [path for path, _ in rows] == ["hotline/2024-05.csv", "hotline/2024-06.csv"]
    assert rows[0][1].startswith("文件的各列以制表符（Tab）分隔，不是逗号分隔的 CSV")
    assert rows[1][1].startswith("文件的各列以分号（;）分隔")
