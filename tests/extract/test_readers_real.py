"""The readers return what the clerk sees: marks, hidden rows and columns, merges, far cells."""

from __future__ import annotations

import struct
import zipfile
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
import xlwt
from rawxlsx import inline, number, write_raw_xlsx

from flows.errors import Rejected, readable
from flows.extract import readers, xlsx_marks
from flows.extract.readers import MergedRange
from flows.textnorm import halfwidth_expr, normalise_header, normalise_value, normalise_value_expr


def grids(path: Path) -> list[readers.Grid]:
    """Every sheet of a workbook as the ingest reads it."""
    wb = readers.open_workbook(path)
    return [readers.sheet_grid(wb, s) for s in readers.sheets(wb, path)]


def only(path: Path) -> readers.Grid:
    (grid,) = grids(path)
    return grid


def cells(grid: readers.Grid) -> list[tuple]:
    return grid.frame.rows()


def marks(grid: readers.Grid) -> list[tuple]:
    return sorted(grid.marks.rows()) if grid.marks is not None else []


class CalamineMustNotRead:
    """Stands in for calamine: the precheck must reject before any sheet is loaded."""

    def load_sheet(self, *args, **kwargs):
        raise AssertionError("calamine was asked to load a sheet the precheck should reject")


# --- .xlsx written by xlsxwriter ---------------------------------------------------------


def test_xlsx_hidden_filtered_merged_and_error_cells(tmp_path):
    path = tmp_path / "a.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("3月")
    ws.write_row(0, 0, ["案件编号", "罚款金额（元）", "备注"])
    ws.write_row(1, 0, ["A1", 100])
    ws.write_string(2, 0, "A2")
    ws.write_formula(2, 1, "=1/0", None, "#DIV/0!")
    ws.write_string(3, 0, "A3")
    ws.write_formula(3, 1, "=VLOOKUP(A3,X!A:B,2,FALSE)", None, "#N/A")
    ws.write_row(4, 0, ["A4", 5])
    ws.set_row(4, None, None, {"hidden": True})
    ws.merge_range(5, 2, 7, 2, "同一天")
    ws.write_row(5, 0, ["A5", 6])
    ws.write_row(8, 0, ["A8", 7])
    ws.set_row(8, None, None, {"hidden": True})  # hidden by hand, outside the filter
    ws.set_column(3, 3, None, None, {"hidden": True})
    ws.write_string(1, 3, "隐藏列")
    ws.autofilter(0, 0, 6, 3)
    wb.close()

    grid = only(path)
    assert grid.hidden_rows == frozenset({5, 9})
    assert grid.filtered_rows == frozenset({5})
    assert grid.hidden_columns == frozenset({3})
    assert grid.merges == (MergedRange(6, 8, 2, 2, "C6:C8"),)
    assert marks(grid) == [
        (3, 1, "error", "#DIV/0!", "=1/0"),
        (4, 1, "error", "#N/A", "=VLOOKUP(A3,X!A:B,2,FALSE)"),
    ]
    assert cells(grid)[2] == (3, "A2", "#DIV/0!", None, None)  # never blank
    assert cells(grid)[3] == (4, "A3", "#N/A", None, None)
    assert cells(grid)[1] == (2, "A1", "100", None, "隐藏列")


def test_xlsx_numbers_as_excel_shows_them(tmp_path):
    path = tmp_path / "n.xlsx"
    rows = [
        ("6.4042219000101E+17", "6.40422E+17"),
        ("1234567890123456", "1.23457E+15"),
        ("0.30000000000000004", "0.3"),
        ("1.23456789012345678", "1.23456789012346"),
        ("1E-20", "1E-20"),
        ("13800138000", "13800138000"),
        ("2.5", "2.5"),
    ]
    body = "".join(f'<row r="{i + 1}">{number(f"A{i + 1}", v)}</row>' for i, (v, _) in enumerate(rows))
    write_raw_xlsx(path, {"S": f"<sheetData>{body}</sheetData>"})
    grid = only(path)
    assert grid.frame["c0"].to_list() == [shown for _, shown in rows]
    assert marks(grid) == [
        (1, 0, "lost_digits", "6.40422E+17", "6.4042219000101E+17"),
        (2, 0, "lost_digits", "1.23457E+15", "1234567890123456"),
    ]


def test_xlsx_id_number_stored_as_number_by_xlsxwriter(tmp_path):
    path = tmp_path / "id.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["当事人", "证件号码"])
    ws.write_string(1, 0, "马某某")
    ws.write_number(1, 1, 640422190001010016)
    ws.write_string(2, 0, "王某某")
    ws.write_string(2, 1, "640422190002150029")
    wb.close()
    grid = only(path)
    assert grid.frame["c1"].to_list() == ["证件号码", "6.40422E+17", "640422190002150029"]
    assert marks(grid) == [(2, 1, "lost_digits", "6.40422E+17", "6.4042219000101E+17")]


@pytest.mark.parametrize("value", ["<v/>", "<v />", "<v></v>", ""])
def test_xlsx_formula_without_result(tmp_path, value):
    path = tmp_path / "f.xlsx"
    body = (
        f'<row r="1">{inline("A1", "现场")}{inline("B1", "线上")}{inline("C1", "覆盖人次")}</row>'
        f'<row r="2">{number("A2", "450")}{number("B2", "0")}<c r="C2"><f>A2+B2</f>{value}</c></row>'
    )
    write_raw_xlsx(path, {"4月": f'<dimension ref="A1:C2"/><sheetData>{body}</sheetData>'})
    grid = only(path)
    assert cells(grid) == [(1, "现场", "线上", "覆盖人次"), (2, "450", "0", None)]
    assert marks(grid) == [(2, 2, "no_result", "", "=A2+B2")]


def test_xlsx_formula_with_result_is_its_result(tmp_path):
    path = tmp_path / "g.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, [1, 2])
    ws.write_formula(0, 2, "=A1+B1", None, 3)
    wb.close()
    grid = only(path)
    assert cells(grid) == [(1, "1", "2", "3")]
    assert marks(grid) == []


def test_xlsx_formula_xlsxwriter_wrote_without_value(tmp_path):
    # xlsxwriter's value=None writes <v>None</v>: not a number, so not a result either.
    path = tmp_path / "h.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_number(0, 0, 1)
    ws.write_formula(0, 1, "=A1+1", None, None)
    wb.close()
    grid = only(path)
    assert cells(grid) == [(1, "1", None)]
    assert marks(grid) == [(1, 1, "no_result", "", "=A1+1")]


def test_xlsx_1904_date_system(tmp_path):
    path = tmp_path / "d.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"date_1904": True})
    ws = wb.add_worksheet()
    ws.write_datetime(0, 0, datetime(2024, 3, 5), wb.add_format({"num_format": "yyyy-mm-dd"}))
    ws.write_number(0, 1, 100)
    wb.close()
    assert cells(only(path)) == [(1, "2024-03-05 00:00:00", "100")]


def test_xlsx_dates_and_times_keep_calamine_text(tmp_path):
    path = tmp_path / "t.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    ws.write_number(0, 0, 45364.416666666664, fmt)  # the detailed pass runs for this number
    ws.write_number(0, 1, 1e-20)
    wb.close()
    assert cells(only(path)) == [(1, "2024-03-13 10:00:00", "1E-20")]


def test_xlsx_leading_empty_columns_are_kept(tmp_path):
    path = tmp_path / "c.xlsx"
    body = f'<row r="2">{inline("C2", "检查日期")}{inline("D2", "检查对象")}</row>'
    write_raw_xlsx(path, {"S": f"<sheetData>{body}</sheetData>"})
    grid = only(path)
    assert grid.frame.columns == ["_row", "c0", "c1", "c2", "c3"]
    assert cells(grid) == [(1, None, None, None, None), (2, None, None, "检查日期", "检查对象")]


def test_xlsx_rows_and_cells_without_r(tmp_path):
    path = tmp_path / "r.xlsx"
    body = (
        f"<row>{inline(None, '推送日期')}{inline(None, '阅读量')}</row>"
        f'<row hidden="1">{inline(None, "2024-11-04")}{number(None, "1532")}</row>'
        f"<row>{inline(None, '2024-11-12')}<c t=\"e\"><v>#REF!</v></c></row>"
        f'<row r="6">{inline("A6", "2024-11-28")}{number("B6", "2210")}</row>'
    )
    write_raw_xlsx(path, {"S": f'<dimension ref="A1"/><sheetData>{body}</sheetData>'})
    grid = only(path)
    assert cells(grid) == [
        (1, "推送日期", "阅读量"),
        (2, "2024-11-04", "1532"),
        (3, "2024-11-12", "#REF!"),
        (4, None, None),
        (5, None, None),
        (6, "2024-11-28", "2210"),
    ]
    assert grid.hidden_rows == frozenset({2})
    assert grid.filtered_rows == frozenset()
    assert marks(grid) == [(3, 1, "error", "#REF!", "")]


def test_xlsx_every_error_text(tmp_path):
    errors = ["#N/A", "#REF!", "#DIV/0!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!"]
    body = "".join(
        f'<row r="{i + 1}"><c r="B{i + 1}" t="e"><f>X()</f><v>{e}</v></c></row>' for i, e in enumerate(errors)
    )
    path = write_raw_xlsx(tmp_path / "e.xlsx", {"S": f"<sheetData>{body}</sheetData>"})
    grid = only(path)
    assert grid.frame["c1"].to_list() == errors
    assert marks(grid) == [(i + 1, 1, "error", e, "=X()") for i, e in enumerate(errors)]


def test_xlsx_lying_dimension_loads(tmp_path):
    rows = "".join(f'<row r="{i}">{inline(f"A{i}", f"行{i}")}</row>' for i in range(1, 6))
    path = write_raw_xlsx(
        tmp_path / "big.xlsx", {"S": f'<dimension ref="A1:XFD1048576"/><sheetData>{rows}</sheetData>'}
    )
    assert cells(only(path)) == [(i, f"行{i}") for i in range(1, 6)]
    small = write_raw_xlsx(tmp_path / "small.xlsx", {"S": f'<dimension ref="A1"/><sheetData>{rows}</sheetData>'})
    assert only(small).frame.height == 5


def far_cell_workbook(path: Path) -> Path:
    table = "".join(
        f'<row r="{r}">' + "".join(inline(f"{c}{r}", f"{c}{r}") for c in "ABCDEFGH") + "</row>"
        for r in range(1, 6)
    )
    far = "".join(f'<row r="{r}">{number(f"XFD{r}", "1")}</row>' for r in range(1048550, 1048576))
    return write_raw_xlsx(path, {"8月": f'<dimension ref="A1:XFD1048575"/><sheetData>{table}{far}</sheetData>'})


def test_far_cells_are_rejected_before_calamine_reads(tmp_path):
    path = far_cell_workbook(tmp_path / "far.xlsx")
    wb = readers.open_workbook(path)
    wb.calamine = CalamineMustNotRead()
    (sheet,) = readers.sheets(wb, path)
    with pytest.raises(Rejected) as caught:
        readers.sheet_grid(wb, sheet)
    assert caught.value.rule == "far_cells"
    assert caught.value.reason == (
        "工作表「8月」在 XFD1048550 等 26 个单元格有内容，远在表格之外（表格在 A1:H5），"
        "读取整张表需要过多内存；请删除表格以外的内容后重新提交"
    )


def test_far_rows_beyond_the_bound_are_rejected(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_marks, "MAX_GRID_CELLS", 1000)
    table = "".join(f'<row r="{r}">{inline(f"A{r}", "x")}{inline(f"J{r}", "y")}</row>' for r in range(1, 4))
    path = write_raw_xlsx(
        tmp_path / "rows.xlsx", {"S": f'<sheetData>{table}<row r="500">{inline("C500", "z")}</row></sheetData>'}
    )
    wb = readers.open_workbook(path)
    wb.calamine = CalamineMustNotRead()
    with pytest.raises(Rejected, match=r"在 C500 有内容，远在表格之外（表格在 A1:J3）") as caught:
        readers.sheet_grid(wb, readers.sheets(wb, path)[0])
    assert caught.value.rule == "far_cells"


def test_many_rows_of_a_narrow_sheet_load(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_marks, "MAX_GRID_CELLS", 1000)
    rows = "".join(f'<row r="{r}">{inline(f"A{r}", "x")}</row>' for r in range(1, 600))
    path = write_raw_xlsx(tmp_path / "narrow.xlsx", {"S": f"<sheetData>{rows}</sheetData>"})
    assert only(path).frame.height == 599


def zip_with_declared_size(path: Path, member: str, size: int) -> Path:
    """A valid workbook whose member's declared (uncompressed) size is rewritten to `size`."""
    write_raw_xlsx(path, {"S": f'<sheetData><row r="1">{inline("A1", "x")}</row></sheetData>'})
    data = bytearray(path.read_bytes())
    name = member.encode()
    for sig, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        at = 0
        while (at := data.find(sig, at)) >= 0:
            name_at = at + (46 if sig == b"PK\x01\x02" else 30)
            if data[name_at:name_at + len(name)] == name:
                struct.pack_into("<I", data, at + offset, size)
            at += 4
    path.write_bytes(bytes(data))
    return path


def test_zip_member_declared_huge_is_rejected(tmp_path):
    path = zip_with_declared_size(tmp_path / "bomb.xlsx", "xl/worksheets/sheet1.xml", 3 << 30)
    with pytest.raises(Rejected) as caught:
        readers.open_workbook(path)
    assert caught.value.rule == "zip_bomb"
    assert caught.value.reason == (
        "工作簿中的部件「xl/worksheets/sheet1.xml」解压后有 3,072 MB，超过上限 1024 MB"
        "（文件异常或被构造）；请检查文件内容后重新提交"
    )


def test_zip_member_with_absurd_ratio_is_rejected(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_marks, "RATIO_FLOOR_BYTES", 1 << 20)
    path = tmp_path / "ratio.xlsx"
    write_raw_xlsx(path, {"S": f'<sheetData><row r="1">{inline("A1", "x")}</row></sheetData>'})
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/media/zeros.bin", b"\0" * (4 << 20))
    with pytest.raises(Rejected, match=r"「xl/media/zeros.bin」压缩比异常") as caught:
        readers.open_workbook(path)
    assert caught.value.rule == "zip_bomb"


def test_zip_total_above_the_bound_is_rejected(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_marks, "MAX_TOTAL_BYTES", 1000)
    path = write_raw_xlsx(
        tmp_path / "t.xlsx", {"S": "<sheetData>" + "<row/>" * 500 + "</sheetData>"}
    )
    with pytest.raises(Rejected, match="工作簿解压后共有") as caught:
        readers.open_workbook(path)
    assert caught.value.rule == "zip_bomb"


# --- .xls through xlrd -------------------------------------------------------------------


def test_xls_text_forms_and_marks(tmp_path):
    path = tmp_path / "a.xls"
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("3月")
    date = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    stamp = xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm:ss")
    ws.write(0, 1, "检查日期")
    ws.write(1, 1, datetime(2024, 3, 5), date)
    ws.write(2, 1, datetime(2024, 3, 5, 10, 30, 15), stamp)
    ws.write(3, 1, 35)
    ws.write(4, 1, 0.1 + 0.2)
    ws.write(5, 1, 6.4042219000101e17)
    ws.write(6, 1, True)
    ws.row(7).set_cell_error(1, "#DIV/0!")
    ws.write(8, 1, "隐藏")
    ws.row(8).hidden = True
    ws.col(3).hidden = True
    ws.write_merge(9, 11, 2, 2, "合并")
    hidden = wb.add_sheet("说明")
    hidden.write(0, 0, "x")
    hidden.visibility = 1
    wb.save(str(path))

    wb = readers.open_workbook(path)
    assert readers.sheets(wb, path) == [readers.Sheet("3月", True, 0), readers.Sheet("说明", False, 1)]
    grid = readers.sheet_grid(wb, readers.sheets(wb, path)[0])
    assert grid.frame["c1"].to_list()[:9] == [
        "检查日期", "2024-03-05 00:00:00", "2024-03-05 10:30:15", "35", "0.3",
        "6.40422E+17", "true", "#DIV/0!", "隐藏",
    ]  # fmt: skip
    assert grid.frame["c0"].to_list() == [None] * 10  # column A stays column A
    assert grid.hidden_rows == frozenset({9})
    assert grid.hidden_columns == frozenset({3})
    assert grid.merges == (MergedRange(10, 12, 2, 2, "C10:C12"),)
    assert marks(grid) == [
        (6, 1, "lost_digits", "6.40422E+17", "6.4042219000101e+17"),
        (8, 1, "error", "#DIV/0!", ""),
    ]


def test_xls_1904_dates(tmp_path):
    path = tmp_path / "d.xls"
    wb = xlwt.Workbook()
    wb.dates_1904 = True
    ws = wb.add_sheet("S")
    ws.write(0, 0, datetime(2024, 3, 5), xlwt.easyxf(num_format_str="yyyy-mm-dd"))
    wb.save(str(path))
    assert cells(only(path)) == [(1, "2024-03-05 00:00:00")]


# --- .xls BIFF5 (Excel 5.0/95) with GBK text, built record by record ---------------------


def biff(rtype: int, payload: bytes) -> bytes:
    return struct.pack("<HH", rtype, len(payload)) + payload


def biff5_workbook(sheet: str, rows: list[list[object]]) -> bytes:
    """The `Book` stream of an Excel 5.0/95 workbook, codepage 936, one sheet."""
    enc = "gbk"
    xf = biff(0x00E0, struct.pack("<HHHHHHHH", 0, 0, 0xFFF5, 0x20, 0, 0, 0, 0))
    font = biff(0x0031, struct.pack("<HHHHHBBBB", 200, 0, 0x7FFF, 400, 0, 0, 0, 0, 0) + b"\x05Arial")
    head = (
        biff(0x0809, struct.pack("<HHHH", 0x0500, 0x0005, 0, 0))
        + biff(0x0042, struct.pack("<H", 936))
        + font * 5
        + xf * 21
    )
    name = sheet.encode(enc)
    bound_len = len(biff(0x0085, b"\0" * (6 + 1 + len(name))))
    eof = biff(0x000A, b"")
    sheet_start = len(head) + bound_len + len(eof)
    body = biff(0x0809, struct.pack("<HHHH", 0x0500, 0x0010, 0, 0))
    body += biff(0x0000, struct.pack("<HHHHH", 0, len(rows), 0, max(len(r) for r in rows), 0))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, str):
                text = value.encode(enc)
                body += biff(0x0204, struct.pack("<HHHH", r, c, 15, len(text)) + text)
            elif value is not None:
                body += biff(0x0203, struct.pack("<HHHd", r, c, 15, float(value)))
    body += eof
    bound = biff(0x0085, struct.pack("<IBB", sheet_start, 0, 0) + bytes([len(name)]) + name)
    return head + bound + eof + body


def ole_file(stream: bytes, name: str = "Book") -> bytes:
    """A minimal compound file (512-byte sectors) holding one stream of 4096+ bytes."""
    stream = stream.ljust(max(4096, -(-len(stream) // 512) * 512), b"\0")
    n_data = len(stream) // 512
    fat_sector, dir_sector = n_data, n_data + 1
    fat = [i + 1 for i in range(n_data - 1)] + [0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFE]
    fat += [0xFFFFFFFF] * (128 - len(fat))
    header = bytearray(512)
    header[0:8] = bytes.fromhex("d0cf11e0a1b11ae1")
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIII", header, 44, 1, dir_sector, 0, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
    struct.pack_into("<I", header, 76, fat_sector)
    for i in range(1, 109):
        struct.pack_into("<I", header, 76 + 4 * i, 0xFFFFFFFF)

    def entry(label: str, kind: int, child: int, start: int, size: int) -> bytes:
        e = bytearray(128)
        raw = (label + "\0").encode("utf-16-le")
        e[0:len(raw)] = raw
        struct.pack_into("<HBB", e, 64, len(raw), kind, 1)
        struct.pack_into("<III", e, 68, 0xFFFFFFFF, 0xFFFFFFFF, child)
        struct.pack_into("<II", e, 116, start, size)
        return bytes(e)

    directory = entry("Root Entry", 5, 1, 0xFFFFFFFE, 0) + entry(name, 2, 0xFFFFFFFF, 0, len(stream))
    directory = directory.ljust(512, b"\0")
    return bytes(header) + stream + struct.pack("<128I", *fat) + directory


def test_xls_biff5_gbk_text_is_intact(tmp_path):
    rows = [["处置日期", "处置方式", "数量"], [None, "收缴", 35], [None, "撤架", 20]]
    path = tmp_path / "2024-05.xls"
    path.write_bytes(ole_file(biff5_workbook("5月", rows)))
    grid = only(path)
    assert grid.sheet == "5月"
    assert cells(grid) == [(1, "处置日期", "处置方式", "数量"), (2, None, "收缴", "35"), (3, None, "撤架", "20")]


# --- CSV bytes ---------------------------------------------------------------------------


def test_csv_bare_cr_line_endings(tmp_path):
    data = "工单编号,受理日期,诉求类型,办理时限,满意度\rGD1,2024-05-06,投诉,2024-05-13,满意\rGD2,2024-05-07,咨询,2024-05-14,\r"
    grid = readers.csv_grid(data.encode("gbk"))
    assert cells(grid) == [
        (1, "工单编号", "受理日期", "诉求类型", "办理时限", "满意度"),
        (2, "GD1", "2024-05-06", "投诉", "2024-05-13", "满意"),
        (3, "GD2", "2024-05-07", "咨询", "2024-05-14", None),
    ]


def test_csv_control_characters_are_dropped_and_headers_match(tmp_path):
    data = "检\u200b查日期,检查对象\r\n2024-03-05,场所\x1f1\r\n2024-03-06,场所\u20602\x7f\r\n"
    grid = readers.csv_grid(data.encode("utf-8"))
    # Control bytes go at once; zero-width characters go where cells are compared or parsed.
    assert cells(grid) == [(1, "检\u200b查日期", "检查对象"), (2, "2024-03-05", "场所1"), (3, "2024-03-06", "场所\u20602")]
    assert normalise_header(grid.frame["c0"][0]) == "检查日期"
    assert normalise_value(grid.frame["c1"][2]) == "场所2"


def test_csv_undecodable_says_what_to_do():
    with pytest.raises(Rejected, match="请另存为「CSV UTF-8（逗号分隔）」") as caught:
        readers.csv_grid(b"\x81\x30\xff\xfe,\x80\n")
    assert caught.value.rule == "encoding"


def test_csv_utf16_is_rejected_with_what_to_do():
    with pytest.raises(Rejected, match="UTF-16") as caught:
        readers.csv_grid("检查日期\t检查对象\r\n".encode("utf-16"))
    assert caught.value.rule == "encoding"
    assert "CSV UTF-8" in caught.value.reason


def test_csv_mostly_nul_is_rejected_as_unreadable():
    with pytest.raises(Rejected, match="大部分字符无法识别") as caught:
        readers.csv_grid("date,venue\n2024-03-05,KTV\n".encode("utf-16-le"))  # UTF-16 without BOM
    assert caught.value.rule == "encoding"


# --- invisible characters in headers and values, and readable reasons --------------------


@pytest.mark.parametrize("text", ["检\u200b查日期", "\ufeff检查日期", "检查\u2060日期\x1f", "检查日期\u200c\u200d"])
def test_headers_and_values_ignore_invisible_characters(text):
    assert normalise_header(text) == "检查日期"
    assert normalise_value(text) == "检查日期"
    assert pl.select(normalise_value_expr(pl.lit(text))).item() == "检查日期"
    assert pl.select(halfwidth_expr(pl.lit(text))).item() == "检查日期"  # dates and numbers too


def test_reasons_carry_no_control_or_replacement_characters():
    exc = Rejected("最接近表头的是第1行：\ufffd\x00\ufffd\x00处置\n日期\u200b", rule="no_header")
    assert exc.reason == "最接近表头的是第1行：处置 日期"
    assert str(exc) == exc.reason
    assert readable("a\tb\x1fc") == "a bc"


def test_marked_cells_beyond_calamines_range_are_in_the_grid(tmp_path):
    body = (
        f'<row r="1">{inline("A1", "合计")}</row>'
        '<row r="3"><c r="C3" t="e"><v>#N/A</v></c><c r="D3"><f>SUM(D1:D2)</f><v/></c></row>'
        '<row r="4"><c r="B4"><f>1+1</f></c></row>'
    )
    path = write_raw_xlsx(tmp_path / "x.xlsx", {"S": f"<sheetData>{body}</sheetData>"})
    grid = only(path)
    assert cells(grid) == [
        (1, "合计", None, None, None),
        (2, None, None, None, None),
        (3, None, None, "#N/A", None),
        (4, None, None, None, None),
    ]
    assert marks(grid) == [
        (3, 2, "error", "#N/A", ""),
        (3, 3, "no_result", "", "=SUM(D1:D2)"),
        (4, 1, "no_result", "", "=1+1"),
    ]


def test_xlsx_and_xls_cells_drop_invisible_characters(tmp_path):
    rows = [["检\u200b查日期", "检查对象"], ["2024-03-05\ufeff", "场所\x1f1"], ["\u200b", "场所2"]]
    xlsx = tmp_path / "s.xlsx"
    wb = xlsxwriter.Workbook(str(xlsx))
    ws = wb.add_worksheet()
    for r, row in enumerate(rows):
        ws.write_row(r, 0, row)
    wb.close()
    inline_path = write_raw_xlsx(
        tmp_path / "i.xlsx",
        {"S": "<sheetData>" + "".join(
            f'<row r="{r + 1}">{inline(f"A{r + 1}", a)}{inline(f"B{r + 1}", b)}</row>' for r, (a, b) in enumerate(rows)
        ).replace("\x1f", "_x001F_") + "</sheetData>"},
    )  # fmt: skip
    xls = tmp_path / "s.xls"
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("S")
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            sheet.write(r, c, v)
    book.save(str(xls))
    for path in (xlsx, inline_path, xls):
        assert cells(only(path)) == [
            (1, "检查日期", "检查对象"), (2, "2024-03-05", "场所1"), (3, None, "场所2")
        ], path.name  # fmt: skip


def test_clean_xlsx_text_is_untouched(tmp_path):
    path = tmp_path / "c.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["第一行\n第二行", "a\tb", " 空格 "])
    wb.close()
    assert cells(only(path)) == [(1, "第一行\n第二行", "a\tb", " 空格 ")]


def test_xlsx_leading_columns_formatted_but_empty(tmp_path, monkeypatch):
    rows = "".join(
        f'<row r="{r}"><c r="A{r}" s="0"/><c r="B{r}" s="0"/>{inline(f"C{r}", f"x{r}")}{number(f"D{r}", str(r))}</row>'
        for r in range(1, 4)
    )
    path = write_raw_xlsx(tmp_path / "f.xlsx", {"S": f"<sheetData>{rows}</sheetData>"})
    grid = only(path)
    assert cells(grid) == [(r, None, None, f"x{r}", str(r)) for r in range(1, 4)]
    monkeypatch.setattr(xlsx_marks, "detail", None)  # found without the detailed pass
    scan = xlsx_marks.scan_sheet(zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml"), "S")
    assert scan.min_col == 2


@pytest.mark.parametrize("name", ["a.csv", "a.xlsx", "a.xls"])
def test_a_file_larger_than_any_ledger_is_rejected_unread(tmp_path, monkeypatch, name):
    monkeypatch.setattr(readers, "MAX_FILE_BYTES", 1 << 20)
    path = tmp_path / name
    with path.open("wb") as f:  # sparse: 3 MB that take no disk
        f.truncate(3 << 20)
    opener = readers.read_bytes if name.endswith(".csv") else readers.open_workbook
    with pytest.raises(Rejected) as caught:
        opener(path)
    assert caught.value.rule == "too_large"
    assert caught.value.reason == (
        "文件有 3 MB，超过上限 1 MB，台账文件不会这么大（可能不是台账或已损坏）；"
        "请检查后重新提交，确需这么多数据的请按月拆分"
    )


def test_xlsx_formula_cached_zero_of_a_program_that_does_not_calculate(tmp_path):
    # xlsxwriter stores 0 for a formula written without a value and asks Excel to recalculate
    # on opening (fullCalcOnLoad): the clerk sees 1730, the file says 0.
    path = tmp_path / "z.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, [450, 1280])
    ws.write_formula(0, 2, "=A1+B1")
    ws.write_formula(0, 3, "=A1+B1", None, 1730)
    wb.close()
    grid = only(path)
    assert cells(grid) == [(1, "450", "1280", None, "1730")]
    assert marks(grid) == [(1, 2, "no_result", "", "=A1+B1")]


def test_xlsx_formula_cached_zero_saved_by_excel_is_zero(tmp_path):
    body = f'<row r="1">{number("A1", "0")}{number("B1", "0")}<c r="C1"><f>A1+B1</f><v>0</v></c></row>'
    path = write_raw_xlsx(tmp_path / "e.xlsx", {"S": f"<sheetData>{body}</sheetData>"})
    grid = only(path)
    assert cells(grid) == [(1, "0", "0", "0")]
    assert marks(grid) == []
