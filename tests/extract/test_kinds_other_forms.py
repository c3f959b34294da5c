"""Other forms of the kinds of issue 11, as a bureau's units send them (`kinds-tried.md`, w6).

Each test writes its own small file of one form and asserts what loads, or the exact problem or
reason: a workbook with one sheet per 中队, last month's sheet left before this month's, the data
on a hidden sheet behind an empty template; `执法人员` merged over two columns with a name in each;
an array formula written by a program that does not calculate; a 万元 amount kept in yuan and
shown in 万 by its number format, and a case number shown with its fixed text by its format; an
Excel table's 汇总 row; a CSV with Excel's `sep=;` hint; GBK text behind a UTF-8 byte-order mark.
"""

from __future__ import annotations

import codecs
from datetime import date, datetime
from pathlib import Path

import pytest
import xlsxwriter
from ledgerfiles import write_xlsx

from flows.extract.number_formats import Shown, classify

INSPECTIONS = ["检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "执法人员", "检查结果"]
CASES = ["案件编号", "立案日期", "当事人", "当事人类型", "案由"]
PUBLICITY = ["活动日期", "活动名称", "活动主题", "活动形式", "发放海报（张）", "覆盖人次"]
HOTLINE = ["工单编号", "受理日期", "诉求类型", "诉求内容", "办理时限"]


def inspection(day: date, venue: str, inspectors: object = 2, officers: str = "张三、李四") -> list[object]:
    return [day, "日常检查", venue, "网吧", inspectors, officers, "未发现问题"]


def reason(ws, path: str) -> tuple[str, str]:
    return ws.one("SELECT status, reason FROM file_versions WHERE path = ?", [path])


# --- sheets: several with data, an empty template before the data, data on a hidden sheet ------


def test_two_sheets_with_the_header_and_data_are_sent_back_naming_both(ws):
    write_xlsx(ws.path("inspections/2024-01.xlsx"), {
        "一中队": [INSPECTIONS, inspection(date(2024, 1, 3), "甲网吧")],
        "二中队": [INSPECTIONS, inspection(date(2024, 1, 5), "丙网吧")],
    })  # fmt: skip
    summary = ws.run()
    assert (summary.files_loaded, summary.files_rejected, summary.rows_loaded) == (0, 1, 0)
    status, text = reason(ws, "inspections/2024-01.xlsx")
    assert status == "rejected"
    assert "工作簿中有 2 张工作表都有执法检查台账的表头和数据：「一中队」「二中队」" in text


def test_the_sheet_with_data_wins_over_an_empty_template_before_it(ws):
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {
        "模板": [INSPECTIONS],
        "3月": [INSPECTIONS, inspection(date(2024, 3, 3), "甲网吧"), inspection(date(2024, 3, 4), "乙网吧")],
    })  # fmt: skip
    summary = ws.run()
    assert (summary.files_loaded, summary.rows_loaded) == (1, 2)
    assert ws.one("SELECT sheet, zero_report FROM file_versions") == ("3月", False)


def test_a_total_row_alone_does_not_make_a_second_sheet_data(ws):
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {
        "3月": [INSPECTIONS, inspection(date(2024, 3, 3), "甲网吧")],
        "汇总": [INSPECTIONS, ["合计", None, None, None, 2, None, None]],
    })  # fmt: skip
    summary = ws.run()
    assert (summary.files_loaded, summary.rows_loaded) == (1, 1)


def test_data_on_a_hidden_sheet_behind_an_empty_visible_one_is_no_zero_report(ws):
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {
        "数据": [INSPECTIONS, inspection(date(2024, 3, 3), "甲网吧")],
        "模板": [INSPECTIONS],
    }, hidden=("数据",))  # fmt: skip
    summary = ws.run()
    assert (summary.files_loaded, summary.files_rejected) == (0, 1)
    _, text = reason(ws, "inspections/2024-03.xlsx")
    assert "数据在隐藏的工作表「数据」中" in text


def test_a_hidden_drop_down_sheet_leaves_a_zero_report_as_it_is(ws):
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"下拉选项": [["检查类型"], ["日常检查"]], "S": [INSPECTIONS]},
               hidden=("下拉选项",))
    summary = ws.run()
    assert summary.files_loaded == 1
    assert ws.one("SELECT zero_report FROM file_versions") is True


# --- a header merged across columns -------------------------------------------------------------


def merged_header_sheet(path: Path, rows: list[list[object]], merged: tuple[int, int], text: str) -> Path:
    """Write a sheet whose header cell `text` is merged over columns merged[0]..merged[1] (0-based)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.merge_range(0, merged[0], 0, merged[1], text)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None or (r == 0 and merged[0] <= c <= merged[1]):
                continue
            if isinstance(value, date):
                ws.write_datetime(r, c, datetime(value.year, value.month, value.day), day)
            elif isinstance(value, int | float):
                ws.write_number(r, c, value)
            else:
                ws.write_string(r, c, value)
    wb.close()
    return path


def test_officers_under_a_header_merged_over_two_columns_are_both_read(ws):
    header = [*INSPECTIONS[:6], None, INSPECTIONS[6]]
    rows = [header,
            [date(2024, 6, 3), "日常检查", "丑网吧", "网吧", 2, "张三", "李四", "未发现问题"],
            [date(2024, 6, 4), "日常检查", "寅网吧", "网吧", 2, "王五", None, "未发现问题"]]
    merged_header_sheet(ws.path("inspections/2024-06.xlsx"), rows, (5, 6), "执法人员")
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (2, 0)
    assert ws.query("SELECT venue_name, officers FROM raw.inspections ORDER BY venue_name") == [
        ("丑网吧", ["张某", "李某"]), ("寅网吧", ["王某"])]  # masked, as every name is


def test_a_count_under_a_header_merged_over_two_columns_goes_back_with_both_values(ws):
    header = [*INSPECTIONS[:4], "出动人次", None, *INSPECTIONS[5:]]
    rows = [header,
            [date(2024, 6, 3), "日常检查", "丑网吧", "网吧", 2, 3, "张三", "未发现问题"],
            [date(2024, 6, 4), "日常检查", "寅网吧", "网吧", 2, None, "张三", "未发现问题"]]
    merged_header_sheet(ws.path("inspections/2024-06.xlsx"), rows, (4, 5), "出动人次")
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (1, 1)
    assert ws.query("SELECT row, header, raw_value, rule, message FROM problems") == [
        (2, "出动人次", "2 | 3", "merged_header", "第2行「出动人次」：该列表头合并了多列，其下几列都填了值，"
         "无法确定哪个是该项的值；请取消表头合并、每项只填一列后重新提交（原值：「2 | 3」）")]


def test_a_title_merged_over_the_table_is_no_merged_header(ws):
    path = ws.path("inspections/2024-06.xlsx")
    path.parent.mkdir(parents=True)
    wb = xlsxwriter.Workbook(str(path))
    s = wb.add_worksheet("S")
    s.merge_range(0, 0, 0, 9, "检查日期")  # a title that happens to read as the first header
    for c, h in enumerate(INSPECTIONS):
        s.write_string(1, c, h)
    s.write_datetime(2, 0, datetime(2024, 6, 3), wb.add_format({"num_format": "yyyy-mm-dd"}))
    for c, v in enumerate(["日常检查", "丑网吧", "网吧", 2, "张三", "未发现问题", None, "经办：王五"], start=1):
        if v is not None:
            (s.write_number if isinstance(v, int) else s.write_string)(2, c, v)
    wb.close()
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (1, 0)


def test_sub_headers_under_a_group_label_are_columns_of_their_own(ws):
    path = ws.path("publicity_events/2024-11.xlsx")
    path.parent.mkdir(parents=True)
    wb = xlsxwriter.Workbook(str(path))
    s = wb.add_worksheet("S")
    for c, h in enumerate(PUBLICITY[:4]):
        s.merge_range(0, c, 1, c, h)
    s.merge_range(0, 4, 0, 6, "宣传成效")
    for c, h in enumerate(["发放海报（张）", "覆盖人次", "其他"], start=4):
        s.write_string(1, c, h)
    s.write_datetime(2, 0, datetime(2024, 11, 3), wb.add_format({"num_format": "yyyy-mm-dd"}))
    for c, v in enumerate(["宪法宣传", "国家宪法日", "线下", 50, 300, 7], start=1):
        (s.write_number if isinstance(v, int) else s.write_string)(2, c, v)
    wb.close()
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (1, 0)
    assert ws.query("SELECT posters, reach FROM raw.publicity_events") == [(50, 300)]
    assert ws.one("SELECT ignored_columns FROM file_versions") == ["其他"]


# --- an array formula saved without its results ------------------------------------------------


def test_every_cell_of_an_array_formula_without_results_goes_back(ws):
    path = ws.path("publicity_events/2024-07.xlsx")
    path.parent.mkdir(parents=True)
    wb = xlsxwriter.Workbook(str(path))  # writes {=…} in E2 and pads E3:E4 with 0, asking Excel to calculate
    s = wb.add_worksheet("S")
    for c, h in enumerate([*PUBLICITY, "人数"]):
        s.write_string(0, c, h)
    for r in range(1, 4):
        s.write_datetime(r, 0, datetime(2024, 7, r + 2), wb.add_format({"num_format": "yyyy-mm-dd"}))
        for c, v in enumerate([f"宣传{r}", "日常普法", "线下"], start=1):
            s.write_string(r, c, v)
        s.write_number(r, 5, 100)
        s.write_number(r, 6, r + 2)
    s.write_array_formula(1, 4, 3, 4, "{=G2:G4*10}")
    wb.close()
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (0, 3)
    assert ws.query("SELECT row, header, rule FROM problems ORDER BY row") == [
        (r, "发放海报（张）", "formula_no_result") for r in (2, 3, 4)]


# --- number formats that scale a number or write text around it -------------------------------


@pytest.mark.parametrize(("code", "value", "shown"), [
    ("0!.0000", "12345", "1.2345"),  # yuan shown in 万 (the point is a literal among the digits)
    ('0"."0000', "12345.6", "1.23456"),
    ("0!.0000", "123", "0.0123"),
    ('0!.0,"万"', "123456", "12.3456万"),  # thousands scaling and the point: 12.3万 shown, full precision kept
    ('0.00"万元"', "1.2", "1.2万元"),
    ('G/通用格式"万元"', "0.3", "0.3万元"),
    ('"西文旅罚〔2024〕"0"号"', "7", "西文旅罚〔2024〕7号"),
    ("0.0,,", "1234567", "1.234567"),
    ('0"万元"', "-3", "-3万元"),
    ('0"号"', "7", "7号"),
])  # fmt: skip
def test_formats_that_scale_or_add_text_show_it(code, value, shown):
    assert classify(code).text(value) == shown


@pytest.mark.parametrize("code", [
    '0"人"', '0"户"', '0"人/次"', '#,##0.00"元"', "0元", 'G/通用格式"元"', "¥#,##0.00", '"$"#,##0', "General", "#,##0",
    "0.00_ ",
    'yyyy"年"m"月"d"日"', '@"号"', "000-0000", "0.00E+00",
])  # fmt: skip
def test_formats_that_show_the_stored_number_are_left(code):
    # not rewritten; a rounding one is only checked: it sends back a number it shows as another
    shown = classify(code)
    assert shown is None or shown.kind == "rounded"


def test_zero_padding_with_text_among_the_zeros_is_no_padding():
    assert classify('0"."0000') == Shown("affixed", 4)


def formatted_cases(path: Path, case_no: str, header: str, value: object, code: str) -> Path:
    """A register of one case whose last column (`header`) holds `value` in number format `code`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    s = wb.add_worksheet("S")
    for c, h in enumerate([*CASES, header]):
        s.write_string(0, c, h)
    s.write_string(1, 0, case_no)
    s.write_datetime(1, 1, datetime(2024, 1, 3), wb.add_format({"num_format": "yyyy-mm-dd"}))
    for c, v in enumerate(["某公司", "单位", "违规经营"], start=2):
        s.write_string(1, c, v)
    s.write_number(1, 5, value, wb.add_format({"num_format": code}))
    wb.close()
    return path


def test_an_amount_kept_in_yuan_and_shown_in_wan_loads_as_the_yuan_it_is(ws):
    formatted_cases(ws.path("cases/2024-01.xlsx"), "西文旅罚〔2024〕1号", "罚款金额（万元）", 12345, "0!.0000")
    formatted_cases(ws.path("cases/2024-02.xlsx"), "西文旅罚〔2024〕2号", "罚款金额（元）", 1.2, '0.00"万元"')
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (2, 0)
    assert ws.query("SELECT case_no, fine_yuan FROM raw.cases ORDER BY case_no") == [
        ("西文旅罚〔2024〕1号", 12345.0), ("西文旅罚〔2024〕2号", 12000.0)]


def test_a_case_number_shown_with_its_fixed_text_is_that_text(ws):
    path = ws.path("cases/2024-04.xlsx")
    path.parent.mkdir(parents=True)
    book = xlsxwriter.Workbook(str(path))
    s = book.add_worksheet("S")
    for c, h in enumerate([*CASES, "罚款金额（元）"]):
        s.write_string(0, c, h)
    s.write_number(1, 0, 7, book.add_format({"num_format": '"西文旅罚〔2024〕"0"号"'}))
    s.write_datetime(1, 1, datetime(2024, 4, 3), book.add_format({"num_format": "yyyy-mm-dd"}))
    for c, v in enumerate(["某公司", "单位", "违规经营"], start=2):
        s.write_string(1, c, v)
    s.write_number(1, 5, 100, book.add_format({"num_format": '0"元"'}))
    book.close()
    ws.run()
    assert ws.query("SELECT case_no, fine_yuan FROM raw.cases") == [("西文旅罚〔2024〕7号", 100.0)]


# --- an Excel table's total row ----------------------------------------------------------------


def test_the_total_row_of_an_excel_table_is_a_total(ws):
    path = ws.path("inspections/2024-05.xlsx")
    path.parent.mkdir(parents=True)
    wb = xlsxwriter.Workbook(str(path))
    s = wb.add_worksheet("S")
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    data = [[datetime(2024, 5, 3), "日常检查", "癸网吧", "网吧", 2, "张三", "未发现问题"],
            [datetime(2024, 5, 4), "日常检查", "子网吧", "网吧", 3, "张三", "未发现问题"]]
    s.add_table(0, 0, 3, 6, {"data": data, "total_row": True, "columns": [
        {"header": INSPECTIONS[0], "total_string": "汇总", "format": day},
        *[{"header": h} for h in INSPECTIONS[1:4]],
        {"header": INSPECTIONS[4], "total_function": "sum", "total_value": 5},
        {"header": INSPECTIONS[5]}, {"header": INSPECTIONS[6]}]})
    wb.close()
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (2, 0)
    assert ws.query("SELECT row, kind, label FROM skipped_rows") == [(4, "total", "汇总")]


# --- CSV: Excel's separator hint, GBK behind a UTF-8 byte-order mark ---------------------------


def test_a_csv_with_excels_separator_hint_is_split_by_it_and_numbered_as_excel_shows(ws):
    lines = ["sep=;", ";".join(HOTLINE), "GD2024030001;2024-03-05;投诉;噪音;2024-03-12",
             "GD2024030002;2024-03-06;吐槽;噪音;2024-03-13"]
    ws.path("hotline/2024-03.csv").parent.mkdir(parents=True)
    ws.path("hotline/2024-03.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (1, 1)
    assert ws.query("SELECT row, header, raw_value FROM problems") == [(3, "诉求类型", "吐槽")]


def test_gbk_text_behind_a_utf8_byte_order_mark_loads(ws):
    lines = [",".join(HOTLINE), "GD2024010001,2024-01-05,投诉,噪音扰民,2024-01-12"]
    ws.path("hotline/2024-01.csv").parent.mkdir(parents=True)
    ws.path("hotline/2024-01.csv").write_bytes(codecs.BOM_UTF8 + ("\r\n".join(lines) + "\r\n").encode("gbk"))
    summary = ws.run()
    assert (summary.rows_loaded, summary.files_rejected) == (1, 0)
    assert ws.query("SELECT ticket_no, content FROM raw.hotline") == [("GD2024010001", "噪音扰民")]


# --- a date serial typed as a number in a 1904 workbook -------------------------------------------


def test_a_date_serial_typed_as_a_number_counts_from_1904_in_a_1904_workbook(ws):
    path = ws.path("inspections/2024-08.xlsx")
    path.parent.mkdir(parents=True)
    wb = xlsxwriter.Workbook(str(path), {"date_1904": True})
    s = wb.add_worksheet("S")
    for c, h in enumerate(INSPECTIONS):
        s.write_string(0, c, h)
    s.write_number(1, 0, (date(2024, 8, 5) - date(1904, 1, 1)).days)  # General: shows 44047
    s.write_datetime(2, 0, datetime(2024, 8, 6), wb.add_format({"num_format": "yyyy-mm-dd"}))
    for r, venue in ((1, "卯网吧"), (2, "辰网吧")):
        for c, v in enumerate(["日常检查", venue, "网吧", 2, "张三", "未发现问题"], start=1):
            (s.write_number if isinstance(v, int) else s.write_string)(r, c, v)
    wb.close()
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (2, 0)
    assert ws.query("SELECT venue_name, inspection_date FROM raw.inspections ORDER BY 1") == [
        ("卯网吧", date(2024, 8, 5)), ("辰网吧", date(2024, 8, 6))]


def test_a_date_serial_typed_as_a_number_counts_from_1904_in_a_1904_xls(ws):
    import xlwt

    path = ws.path("inspections/2023-01.xls")
    path.parent.mkdir(parents=True)
    book = xlwt.Workbook(encoding="utf-8")
    book.dates_1904 = True
    s = book.add_sheet("S")
    for c, h in enumerate(INSPECTIONS):
        s.write(0, c, h)
    s.write(1, 0, datetime(2023, 1, 5), xlwt.easyxf(num_format_str="yyyy-mm-dd"))
    s.write(2, 0, (date(2023, 1, 7) - date(1904, 1, 1)).days)
    for r, venue in ((1, "甲网吧"), (2, "丙网吧")):
        for c, v in enumerate(["日常检查", venue, "网吧", 2, "张三", "未发现问题"], start=1):
            s.write(r, c, v)
    book.save(str(path))
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (2, 0)
    assert ws.query("SELECT venue_name, inspection_date FROM raw.inspections ORDER BY 1") == [
        ("丙网吧", date(2023, 1, 7)), ("甲网吧", date(2023, 1, 5))]


def test_the_planner_knows_the_row_labels_the_parser_knows():
    from flows.extract import parse, plan

    assert set(plan.ROW_LABELS) == {*parse.TOTAL_PREFIXES, *parse.NOTE_PREFIXES}
    assert plan.NOTHING_HAPPENED == parse.NOTHING_HAPPENED


def test_a_sheet_of_bad_rows_is_data_too(ws):
    # Rows that will go back are still the clerk's data: a second sheet with them is not passed over.
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {
        "3月": [INSPECTIONS, inspection(date(2024, 3, 3), "甲网吧")],
        "补录": [INSPECTIONS, [None, None, "乙网吧", None, None, None, None]],
    })  # fmt: skip
    summary = ws.run()
    assert summary.files_rejected == 1
    assert "「3月」「补录」" in reason(ws, "inspections/2024-03.xlsx")[1]


def test_a_template_with_its_signature_lines_and_a_zero_reports_wu_is_no_data(ws):
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {
        "模板": [INSPECTIONS, ["填表人：", None, None, None, "审核人：", None, None]],
        "3月": [INSPECTIONS, inspection(date(2024, 3, 3), "甲网吧")],
        "4月": [INSPECTIONS, ["本月无"]],
    })  # fmt: skip
    summary = ws.run()
    assert (summary.files_loaded, summary.rows_loaded) == (1, 1)


def test_a_yearly_workbooks_sheet_with_data_whose_name_gives_no_month_goes_back(ws):
    write_xlsx(ws.path("inspections/2024年执法检查台账.xlsx"), {
        "说明": [["填表说明"], ["每月一张工作表"]],
        "1月": [INSPECTIONS, inspection(date(2024, 1, 3), "甲网吧")],
        "3月台账": [INSPECTIONS, inspection(date(2024, 3, 3), "乙网吧")],
    })  # fmt: skip
    summary = ws.run()
    assert (summary.rows_loaded, summary.files_rejected) == (1, 1)
    assert ws.query("SELECT sheet, status, reason FROM file_versions ORDER BY sheet") == [
        ("1月", "loaded", None),
        ("3月台账", "rejected", "工作表「3月台账」有执法检查台账的表头和数据，但从表名看不出是哪个月；年度工作簿的每月"
         "工作表应命名为「1月」…「12月」（或「01」…「12」），请改名后重新提交")]


def test_a_csv_ticket_number_written_with_a_zero_fraction_is_the_same_ticket(ws):
    # April's export went through floating point (a blank in the column): 202404000123.0.
    ws.path("hotline").mkdir(parents=True)
    ws.path("hotline/2024-04.csv").write_text(
        ",".join(HOTLINE) + "\n202404000123.0,2024-04-05,投诉,噪音,2024-04-12\n,2024-04-06,咨询,,2024-04-13\n",
        encoding="utf-8")
    ws.path("hotline/2024-05.csv").write_text(
        ",".join(HOTLINE) + "\n202404000123,2024-04-05,投诉,噪音,2024-04-12\n", encoding="utf-8")
    ws.run()
    assert ws.query("SELECT DISTINCT ticket_no FROM raw.hotline WHERE ticket_no IS NOT NULL") == [("202404000123",)]


# --- headers as templates print them: a required mark, `单位：万元` ---------------------------------


def test_a_header_with_a_required_mark_and_a_unit_written_as_a_form_writes_it(ws):
    # `*` marks the template's required columns; an optional column so marked was ignored and
    # its amounts loaded as the default 0, and `（单位：万元）` was not read as 万元.
    header = ["*案件编号", "*立案日期", "*当事人", "*当事人类型", "*案由", "＊罚款金额（单位：万元）", "没收违法所得（元）★"]
    write_xlsx(ws.path("cases/2024-01.xlsx"), {"S": [
        header, ["西文旅罚〔2024〕1号", date(2024, 1, 3), "某公司", "单位", "违规经营", 1.2, 300]]})
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (1, 0)
    assert ws.query("SELECT fine_yuan, confiscated_yuan FROM raw.cases") == [(12000.0, 300.0)]
    assert ws.one("SELECT ignored_columns FROM file_versions") == []


def test_an_amount_column_under_a_header_the_template_does_not_know_is_asked_about(ws):
    # 罚款数额 for 罚款金额: ignored, every fine would load as the default 0.
    write_xlsx(ws.path("cases/2024-01.xlsx"), {"S": [
        [*CASES, "罚款数额（元）"], ["西文旅罚〔2024〕1号", date(2024, 1, 3), "某公司", "单位", "违规经营", 500]]})
    summary = ws.run()
    assert (summary.files_rejected, summary.rows_loaded) == (1, 0)
    assert reason(ws, "cases/2024-01.xlsx") == ("rejected", (
        "表头中的「罚款数额（元）」是否就是「罚款金额」？模板的这一列不在表中，按原样载入会把该列全部当作未填（取默认值），"
        "请改为模板表头后重新提交"))


def test_an_unknown_header_like_no_missing_amount_column_is_only_listed(ws):
    write_xlsx(ws.path("cases/2024-01.xlsx"), {"S": [
        [*CASES, "罚款金额（元）", "经办科室"], ["西文旅罚〔2024〕1号", date(2024, 1, 3), "某公司", "单位", "违规经营", 500, "法规科"]]})
    summary = ws.run()
    assert (summary.files_rejected, summary.rows_loaded) == (0, 1)


def test_a_zero_report_in_words_beside_last_months_hidden_sheet_is_a_zero_report(ws):
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {
        "2月": [INSPECTIONS, inspection(date(2024, 2, 3), "甲网吧")],
        "3月": [INSPECTIONS, ["本月无"]],
    }, hidden=("2月",))  # fmt: skip
    summary = ws.run()
    assert (summary.files_loaded, summary.files_rejected, summary.rows_loaded) == (1, 0, 0)
    assert ws.one("SELECT sheet, zero_report FROM file_versions") == ("3月", True)
