"""More files of the kinds of issue 11, each as a bureau's unit could send it, and what loads.

Each test writes its own small file: a row of height 0 and a column of width 0 (as hidden to the
clerk as hidden ones), text that Excel shows like an error or a lost-digit number held as a
string of an .xlsx or .xls (pasted from a CSV), a CSV cell written `="0012…"` (Excel shows the
digits), and the signature lines units put under a table. `kinds-tried.md` beside this file lists
every kind tried and its outcome.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
import xlsxwriter
import xlwt
from hypothesis import given, settings
from hypothesis import strategies as st
from ledgerfiles import write_csv, write_xlsx
from rawxlsx import inline, number, write_raw_xlsx

from flows.errors import Rejected
from flows.extract import readers

INSPECTIONS = ["检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "执法人员", "检查结果"]
CASES = ["案件编号", "立案日期", "当事人", "当事人类型", "证件号码", "案由"]
HOTLINE = ["工单编号", "受理日期", "诉求类型", "办理时限"]


def only(path: Path) -> readers.Grid:
    wb = readers.open_workbook(path)
    (grid,) = [readers.sheet_grid(wb, s) for s in readers.sheets(wb, path)]
    return grid


def marks(grid: readers.Grid) -> list[tuple]:
    return sorted(grid.marks.select("_row", "col", "kind", "shown").rows())


def inspection(day: int, venue: str, inspectors: object = 2) -> list[object]:
    return [date(2024, 3, day), "日常检查", venue, "网吧", inspectors, "张三", "未发现问题"]


# --- a row of height 0, a column of width 0 ---------------------------------------------------


def test_a_row_of_height_zero_is_hidden(tmp_path):
    # openpyxl's row_dimensions[r].height = 0 writes the height alone, with no hidden="1".
    path = tmp_path / "h.xlsx"
    rows = "".join(
        f'<row r="{r}"{extra}>{inline(f"A{r}", text)}{number(f"B{r}", "2")}</row>'
        for r, text, extra in [(1, "甲", ""), (2, "乙", ' ht="0" customHeight="1"'), (3, "丙", ' ht="0.0"'),
                               (4, "丁", ' ht="0.75"')]
    )
    write_raw_xlsx(path, {"S": f"<sheetData>{rows}</sheetData>"})
    assert only(path).hidden_rows == frozenset({2, 3})


def test_a_column_of_width_zero_is_hidden(tmp_path):
    path = tmp_path / "w.xlsx"
    body = f'<row r="1">{inline("A1", "a")}{inline("B1", "b")}{inline("C1", "c")}</row>'
    cols = '<cols><col min="2" max="2" width="0" customWidth="1"/><col min="3" max="3" width="0.5"/></cols>'
    write_raw_xlsx(path, {"S": f"{cols}<sheetData>{body}</sheetData>"})
    assert only(path).hidden_columns == frozenset({1})


def test_xls_row_of_height_zero_and_column_of_width_zero_are_hidden(tmp_path):
    path = tmp_path / "z.xls"
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("S")
    for r in range(3):
        ws.write(r, 0, f"A{r}")
        ws.write(r, 1, r)
    ws.row(1).height_mismatch = True
    ws.row(1).height = 0
    ws.col(1).width = 0
    wb.save(str(path))
    grid = only(path)
    assert grid.hidden_rows == frozenset({2})
    assert grid.hidden_columns == frozenset({1})


def test_a_column_of_width_zero_never_wins_over_the_visible_one(ws):
    # The narrowed 出动人次 column comes first; the clerk sees only the second, which says 3.
    path = ws.path("inspections/2024-03.xlsx")
    header = ["检查日期", "出动人次", "检查类型", "检查对象", "场所类型", "出动人次", "检查结果"]
    row = [inline("A2", "2024-03-05"), number("B2", "9"), inline("C2", "日常检查"), inline("D2", "甲网吧"),
           inline("E2", "网吧"), number("F2", "3"), inline("G2", "未发现问题")]
    head = "".join(inline(f"{chr(65 + i)}1", h) for i, h in enumerate(header))
    cols = '<cols><col min="2" max="2" width="0" customWidth="1"/></cols>'
    write_raw_xlsx(path, {"3月": f'{cols}<sheetData><row r="1">{head}</row><row r="2">{"".join(row)}</row></sheetData>'})
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (1, 0)
    assert ws.query("SELECT inspectors FROM raw.inspections") == [(3,)]
    assert ws.one("SELECT ignored_columns FROM file_versions") == ["出动人次（隐藏列，与可见列「出动人次」重复，未读取）"]


def test_a_row_of_height_zero_is_not_loaded_and_is_listed(ws):
    path = ws.path("inspections/2024-03.xlsx")
    head = "".join(inline(f"{chr(65 + i)}1", h) for i, h in enumerate(INSPECTIONS))

    def data(r: int, venue: str, extra: str = "") -> str:
        values = ["2024-03-05", "日常检查", venue, "网吧", None, "张三", "未发现问题"]
        cells = "".join(inline(f"{chr(65 + i)}{r}", v) if v else number(f"{chr(65 + i)}{r}", "2")
                        for i, v in enumerate(values))
        return f'<row r="{r}"{extra}>{cells}</row>'

    flat = ' ht="0" customHeight="1"'
    body = f'<row r="1">{head}</row>{data(2, "甲网吧")}{data(3, "乙网吧", flat)}'
    write_raw_xlsx(path, {"3月": f"<sheetData>{body}</sheetData>"})
    summary = ws.run()
    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (2, 1, 0)
    assert ws.query("SELECT venue_name FROM raw.inspections") == [("甲网吧",)]
    assert ws.query("SELECT row, kind FROM skipped_rows") == [(3, "hidden")]


# --- text shown like an error or a lost-digit number --------------------------------------------


def test_xlsx_text_shown_as_an_error_goes_back_with_its_text(ws):
    # Values pasted from a CSV: the cells hold the text "#N/A" and "#REF!" (shared strings).
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"3月": [
        INSPECTIONS, inspection(5, "#N/A"), inspection(6, "乙网吧", "#REF!"), inspection(7, "丙网吧")]})
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (1, 2)
    assert ws.query("SELECT venue_name FROM raw.inspections") == [("丙网吧",)]
    assert ws.query("SELECT row, header, raw_value, rule FROM problems ORDER BY row") == [
        (2, "检查对象", "#N/A", "excel_error"), (3, "出动人次", "#REF!", "excel_error")]


def test_xlsx_ids_as_scientific_text_never_share_a_key(ws):
    write_xlsx(ws.path("cases/2024-05.xlsx"), {"5月": [
        CASES, ["文罚〔2024〕1号", date(2024, 5, 5), "张三", "个人", "6.40422E+17", "无证经营"],
        ["文罚〔2024〕2号", date(2024, 5, 6), "李四", "个人", "6.40422E+17", "无证经营"]]})
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (0, 2)
    assert ws.query("SELECT count(*) FROM raw.cases") == [(0,)]
    assert ws.query("SELECT row, header, raw_value, rule FROM problems ORDER BY row") == [
        (2, "证件号码", "6.40422E+17", "lost_digits"), (3, "证件号码", "6.40422E+17", "lost_digits")]


def test_xlsx_ticket_number_as_scientific_text_is_never_a_register_key(ws):
    write_xlsx(ws.path("hotline/2024-04.xlsx"), {"4月": [
        HOTLINE, ["2.02404E+11", date(2024, 4, 5), "投诉", date(2024, 4, 10)],
        ["2.02404E+11", date(2024, 4, 6), "咨询", date(2024, 4, 10)],
        ["GD3", date(2024, 4, 7), "咨询", date(2024, 4, 10)]]})
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (1, 2)
    assert ws.query("SELECT ticket_no FROM raw.hotline") == [("GD3",)]
    assert ws.query("SELECT row, rule FROM problems ORDER BY row") == [(2, "lost_digits"), (3, "lost_digits")]


def test_xlsx_marked_cell_is_marked_once(tmp_path):
    # A real error cell (marked by the sheet scan) next to the text "#N/A": one mark each.
    path = tmp_path / "e.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_string(0, 0, "#N/A")
    ws.write_formula(0, 1, "=1/0", None, "#DIV/0!")
    ws.write_number(0, 2, 640422190001010016)
    ws.write_string(0, 3, "3#楼")
    wb.close()
    assert marks(only(path)) == [
        (1, 0, "error", "#N/A"), (1, 1, "error", "#DIV/0!"), (1, 2, "lost_digits", "6.40422E+17")]


def test_xlsx_clean_text_has_no_marks(tmp_path):
    path = tmp_path / "c.xlsx"
    write_xlsx(path, {"S": [["编号", "说明"], ["E+1", "#1 号楼"], ["1.5E+3", "2.02404E+11 元"]]})
    assert marks(only(path)) == []


def test_xls_text_shown_as_an_error_or_lost_digits_is_marked(tmp_path):
    path = tmp_path / "t.xls"
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("S")
    ws.write(0, 0, "#N/A")
    ws.write(0, 1, "6.40422E+17")
    ws.write(0, 2, "甲")
    ws.write(1, 0, datetime(2024, 3, 5), xlwt.easyxf(num_format_str="yyyy-mm-dd"))
    wb.save(str(path))
    assert marks(only(path)) == [(1, 0, "error", "#N/A"), (1, 1, "lost_digits", "6.40422E+17")]


# --- a CSV cell written ="…" ------------------------------------------------------------------


def test_csv_text_formula_is_read_as_excel_shows_it():
    data = b'a,b,c\n="002024030001",="",x\n"=""0012""",=A1,"=""a""b"""\n'
    grid = readers.csv_grid(data)
    assert grid.frame.rows() == [
        (1, "a", "b", "c"), (2, "002024030001", "", "x"), (3, "0012", "=A1", '="a"b"')]


@settings(deadline=None, max_examples=50)
@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_csv_text_formula_keeps_every_digit(digits):
    grid = readers.csv_grid(f'a,b\n="{digits}",x\n'.encode())
    assert grid.frame["c0"].to_list() == ["a", digits]


def test_csv_ticket_numbers_with_leading_zeros_load_as_shown(ws):
    write_csv(ws.path("hotline/2024-03.csv"), [
        HOTLINE, ['="002024030001"', "2024-03-05", "投诉", "2024-03-12"],
        ['="002024030002"', "2024-03-06", "咨询", "2024-03-13"]])
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (2, 0)
    assert ws.query("SELECT ticket_no FROM raw.hotline ORDER BY 1") == [("002024030001",), ("002024030002",)]


# --- signature and note lines under the table ------------------------------------------------

SIGNATURES = ["经办人：李四", "制表人：王五", "填报单位（盖章）：", "主要负责人：赵六", "日期：2024年3月31日",
              "领导签字：", "统 计 人：孙七", "报送日期：2024年4月1日"]


def test_signature_lines_are_notes_not_data(ws):
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"3月": [
        INSPECTIONS, inspection(5, "甲网吧"), *([text] for text in SIGNATURES)]})
    summary = ws.run()
    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (9, 1, 0)
    assert ws.query("SELECT count(*) FROM problems") == [(0,)]
    assert ws.query("SELECT row, kind, label FROM skipped_rows ORDER BY row") == [
        (3, "note", "经办人"), (4, "note", "制表"), (5, "note", "填报单位"), (6, "note", "主要负责人"),
        (7, "note", "日期:"), (8, "note", "领导签字"), (9, "note", "统计人"), (10, "note", "报送日期")]


# --- a .xls that is not a workbook ------------------------------------------------------------


def test_an_xls_that_is_a_web_page_or_text_says_so(ws):
    page = "<html><body><table><tr><td>检查日期</td></tr></table></body></html>"
    ws.path("inspections/2024-03.xls").parent.mkdir(parents=True)
    ws.path("inspections/2024-03.xls").write_text(page, encoding="utf-8")
    ws.path("inspections/2024-04.xls").write_bytes("检查日期\t检查类型\n2024-04-05\t日常检查\n".encode("gbk"))
    write_xlsx(ws.path("inspections/2024-05.xlsx"), {"5月": [INSPECTIONS, inspection(5, "甲网吧")]})
    summary = ws.run()
    assert summary.rows_loaded == 1
    assert ws.query("SELECT path, status, reason FROM file_versions WHERE status = 'rejected' ORDER BY path") == [
        ("inspections/2024-03.xls", "rejected", "文件扩展名为 .xls，但内容是网页（HTML）或 XML 表格（常见于业务系统导出），"
         "不是 Excel 工作簿；请在 Excel/WPS 中打开后另存为 .xlsx 后重新提交"),
        ("inspections/2024-04.xls", "rejected", "文件扩展名为 .xls，但内容是文本（如 CSV 或制表符分隔的文本），"
         "不是 Excel 工作簿；请在 Excel/WPS 中打开后另存为 .xlsx 后重新提交"),
    ]


def test_a_csv_with_an_unpaired_quote_names_its_line():
    data = "巡查日期,文物名称,保护级别\n2024-04-05,某寺,县保\n2024-04-06,\"某塔,县保\n2024-04-07,某殿,县保\n"
    with pytest.raises(Rejected) as caught:
        readers.csv_grid(data.encode("gbk"))
    assert str(caught.value) == (
        "CSV 文件第 3 行的英文双引号（\"）没有配对，Excel 会把其后各行都读进同一个单元格；请在该行补上或删去引号后重新提交")


# --- an .xls formula saved without its result (xlwt) ----------------------------------------------


def test_xls_formula_written_by_xlwt_goes_back_never_blank_or_0(ws):
    # xlwt stores no result: Excel calculates 3 and 500 on opening; xlrd reads "".
    path = ws.path("cases/2024-05.xls")
    path.parent.mkdir(parents=True)
    wb = xlwt.Workbook(encoding="utf-8")
    sheet = wb.add_sheet("5月")
    header = ["案件编号", "立案日期", "当事人", "当事人类型", "案由", "罚款金额（元）"]
    for c, h in enumerate(header):
        sheet.write(0, c, h)
    for r, (no, fine) in enumerate([("文罚〔2024〕1号", xlwt.Formula("200+300")), ("文罚〔2024〕2号", 800)], start=1):
        for c, value in enumerate([no, "2024-05-05", "某某公司", "单位", "超时经营", fine]):
            sheet.write(r, c, value)
    sheet.write(3, 6, xlwt.Formula('""'))  # an empty formula outside the ledger changes nothing
    wb.save(str(path))
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (1, 1)
    assert ws.query("SELECT case_no, fine_yuan FROM raw.cases") == [("文罚〔2024〕2号", 800)]
    assert ws.query("SELECT row, header, rule FROM problems") == [(2, "罚款金额（元）", "formula_no_result")]


def test_xls_empty_text_formula_is_marked_only_without_recalcid(tmp_path):
    from flows.extract import xls_reader

    path = tmp_path / "f.xls"
    wb = xlwt.Workbook()
    sheet = wb.add_sheet("S")
    sheet.write(0, 0, xlwt.Formula("1+2"))
    sheet.write(0, 1, "")
    wb.save(str(path))
    book = xls_reader.open_book(path)
    assert xls_reader.uncalculated_formulas(book, 0) == [(0, 0)]
    assert marks(only(path)) == [(1, 0, "no_result", "")]


def test_xlsx_formula_text_result_shown_as_an_error_is_marked(tmp_path):
    # =IFERROR(…,"#N/A") and the like: a text result the clerk cannot tell from an error.
    path = tmp_path / "s.xlsx"
    body = f'<row r="1">{number("A1", "1")}<c r="B1" t="str"><f>IF(A1=1,"#N/A","")</f><v>#N/A</v></c></row>'
    write_raw_xlsx(path, {"S": f"<sheetData>{body}</sheetData>"})
    assert marks(only(path)) == [(1, 1, "error", "#N/A")]
