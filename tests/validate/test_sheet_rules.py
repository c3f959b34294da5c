"""Hidden, merged, marked and footer rows become the right data or the right problem, and are counted."""

from __future__ import annotations

import csv
import io
from datetime import date

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from ledgerfiles import write_csv, write_xlsx
from typer.testing import CliRunner

from flows.cli import app
from flows.contract.ledgers import LEDGERS
from flows.extract import readers
from flows.extract.headers import find_header
from flows.extract.parse import ParsedSheet, SheetToParse, parse_sheets
from flows.extract.readers import MARKS_SCHEMA, Grid, MergedRange
from flows.validate.sheet_suites import ranges_in_suite

HEADER = ["检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "检查结果"]
CASES = ["案件编号", "立案日期", "当事人", "当事人类型", "证件号码", "案由"]


def visit(day="2024-03-05", venue="某网吧", people="2", kind="日常检查", result="未发现问题"):
    return [day, kind, venue, "网吧", people, result]


def frame_of(rows: list[list]) -> pl.DataFrame:
    width = max(len(r) for r in rows)
    cells = [[None if v is None else str(v) for v in r] + [None] * (width - len(r)) for r in rows]
    frame = pl.DataFrame(cells, schema={f"c{i}": pl.Utf8 for i in range(width)}, orient="row")
    return frame.with_columns(pl.int_range(1, frame.height + 1, dtype=pl.Int32).alias("_row")).select(
        "_row", *[f"c{i}" for i in range(width)])


def marks(*cells: tuple[int, int, str, str]) -> pl.DataFrame:
    """Marked cells: (spreadsheet row, 0-based column, kind, what Excel shows)."""
    return pl.DataFrame([(r, c, k, s, None) for r, c, k, s in cells], schema=MARKS_SCHEMA, orient="row")


def parse(rows: list[list], code: str = "inspections", **layout) -> ParsedSheet:
    """Parse a grid built here, with the layout a reader would give it."""
    return parse_grid(Grid("S", frame_of(rows), **layout), code)


def parse_grid(grid: Grid, code: str = "inspections") -> ParsedSheet:
    """Find the header of a grid and parse it as a run does (a 2024 file of the ledger)."""
    ledger = ranges_in_suite(LEDGERS[code])
    text = readers.text_rows(grid, 32)
    match = find_header(text, grid.frame["_row"].to_list(), ledger, grid.hidden_columns)
    assert match is not None
    [parsed] = parse_sheets([SheetToParse(grid.frame, match, ledger, 2024, text[: match.first_data_index], grid)])
    assert not isinstance(parsed, Exception), parsed
    return parsed


def problems(parsed: ParsedSheet) -> list[tuple]:
    return parsed.problems.select("_row", "header", "raw_value", "rule", "message").rows()


def loaded_rows(parsed: ParsedSheet) -> set[int]:
    bad = set(parsed.problems.filter(pl.col("severity") == "error")["_row"].to_list())
    return set(parsed.rows["_row"].to_list()) - bad


def accounted(parsed: ParsedSheet) -> bool:
    bad = set(parsed.problems.filter(pl.col("severity") == "error")["_row"].to_list())
    loaded = parsed.rows.filter(~pl.col("_row").is_in(list(bad))).height
    quarantined = parsed.rows.filter(pl.col("_row").is_in(list(bad))).height
    return parsed.rows_read == loaded + quarantined + parsed.skipped.height


def write_laid_out(path, rows: list[list], *, hidden_rows=(), filtered=False, hidden_columns=(),
                   numbers: dict | None = None):
    """Write a one-sheet .xlsx as a clerk's Excel would: hidden rows (under an AutoFilter when
    `filtered`), hidden columns, and cells stored as numbers ({(row, col): float}, 1-based row)."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    sheet = wb.add_worksheet("S")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if (r + 1, c) in (numbers or {}):
                sheet.write_number(r, c, numbers[(r + 1, c)])
            elif value is not None:
                sheet.write_string(r, c, str(value))
    if filtered:  # the rows a filter hides lie inside its range
        sheet.autofilter(0, 0, len(rows) - 1, max(len(r) for r in rows) - 1)
    for r in hidden_rows:
        sheet.set_row(r - 1, None, None, {"hidden": True})
    for c in hidden_columns:
        sheet.set_column(c, c, None, None, {"hidden": True})
    wb.close()
    return path


# 1. Marked cells


def test_an_error_cell_is_never_blank_its_row_goes_back_with_the_error_text():
    parsed = parse([HEADER, visit(), visit(people=None), visit(people="#REF!")],
                   marks=marks((3, 4, "error", "#N/A"), (4, 4, "error", "#REF!")))
    assert problems(parsed) == [
        (3, "出动人次", "#N/A", "excel_error",
         "第3行「出动人次」：单元格是 Excel 错误值 #N/A（公式出错），请改正公式或填写数值后重新提交（原值：「#N/A」）"),
        (4, "出动人次", "#REF!", "excel_error",
         "第4行「出动人次」：单元格是 Excel 错误值 #REF!（公式出错），请改正公式或填写数值后重新提交（原值：「#REF!」）"),
    ]
    assert loaded_rows(parsed) == {2}
    assert accounted(parsed)


def test_a_formula_without_its_result_goes_back_not_as_a_blank():
    parsed = parse([HEADER, visit(day=None)], marks=marks((2, 0, "no_result", "")))
    assert problems(parsed) == [
        (2, "检查日期", "", "formula_no_result",
         "第2行「检查日期」：公式没有计算结果（文件由不计算公式的程序保存），请在 Excel/WPS 中打开、保存后重新提交"),
    ]


def test_a_mark_in_an_optional_column_still_sends_the_row_back():
    rows = [[*HEADER, "备注"], [*visit(), None]]
    parsed = parse(rows, marks=marks((2, 6, "error", "#VALUE!")))
    assert [(r, h, rule) for r, h, _, rule, _ in problems(parsed)] == [(2, "备注", "excel_error")]
    assert loaded_rows(parsed) == set()


def test_a_mark_in_a_column_outside_the_ledger_changes_nothing():
    parsed = parse([[*HEADER, "自用列"], [*visit(), "#DIV/0!"]], marks=marks((2, 6, "error", "#DIV/0!")))
    assert problems(parsed) == [] and loaded_rows(parsed) == {2}


def test_marks_in_a_total_row_make_no_trouble():
    rows = [HEADER, visit(people="2"), visit(people="3"), ["合计", None, None, None, "#REF!"]]
    parsed = parse(rows, marks=marks((4, 4, "error", "#REF!")))
    assert problems(parsed) == [] and loaded_rows(parsed) == {2, 3}
    assert parsed.skipped.rows() == [(4, "total", "合计")]


def test_lost_digits_never_reach_a_register_key_or_a_keyed_hash(ws):
    rows = [CASES,
            ["文罚〔2024〕1号", "2024-03-05", "张三", "个人", None, "无证经营"],
            ["文罚〔2024〕2号", "2024-03-06", "李四", "个人", "640422199001010025", "无证经营"]]
    write_laid_out(ws.path("cases/2024-03.xlsx"), rows, numbers={(2, 4): 6.4042219900101E+17})
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (1, 1)
    assert ws.query("SELECT row, header, raw_value, rule, message FROM problems") == [
        (2, "证件号码", "6.40422E+17", "lost_digits",
         "第2行「证件号码」：数字超过 15 位，被 Excel 当作数字保存后丢失了末几位，请将该列设为文本后重新录入"
         "（原值：「6.40422E+17」）")]
    assert ws.query("SELECT case_no FROM raw.cases") == [("文罚〔2024〕2号",)]
    keys = ws.query("SELECT party_id_key FROM raw.cases")
    assert len(keys) == 1 and keys[0][0] is not None


# 2. Hidden rows and columns


def test_hidden_rows_are_not_data_and_each_is_listed(ws):
    rows = [HEADER, visit(venue="甲"), visit(venue="乙"), visit(venue="丙"), [], visit(venue="丁")]
    write_laid_out(ws.path("inspections/2024-03.xlsx"), rows, hidden_rows=(3, 4, 5))
    summary = ws.run()
    assert (summary.rows_read, summary.rows_loaded, summary.rows_skipped) == (4, 2, 2)
    assert ws.query("SELECT venue_name FROM raw.inspections ORDER BY _row") == [("甲",), ("丁",)]
    assert ws.query("SELECT row, kind, label FROM skipped_rows ORDER BY row") == [
        (3, "hidden", None), (4, "hidden", None)]  # the hidden blank row 5 is not read
    assert ws.one("SELECT rows_read, rows_loaded, rows_quarantined, rows_skipped, zero_report FROM file_versions"
                  ) == (4, 2, 0, 2, False)


def test_a_sheet_whose_rows_are_all_hidden_is_not_a_zero_report():
    parsed = parse([HEADER, visit(), visit()], hidden_rows=frozenset({2, 3}), filtered_rows=frozenset({2, 3}))
    assert (parsed.rows_read, parsed.rows.height, parsed.zero_report) == (2, 0, False)
    assert parsed.skipped["kind"].to_list() == ["filtered", "filtered"]
    only_notes = parse([HEADER, ["填表人：王某"]])
    assert (only_notes.rows_read, only_notes.zero_report) == (1, True)
    hidden_note = parse([HEADER, ["本月无"], ["填表人：王某"]], hidden_rows=frozenset({3}))
    assert (hidden_note.rows_read, hidden_note.zero_report) == (2, True)
    assert hidden_note.skipped.rows() == [(2, "nothing", "本月无"), (3, "hidden", None)]


def test_a_hidden_column_never_wins_over_a_visible_one():
    rows = [["出动人次", *HEADER], ["99", *visit(people="2")]]
    parsed = parse(rows, hidden_columns=frozenset({0}))
    assert parsed.rows["inspectors"].to_list() == [2]
    sheet_match = find_header(readers.text_rows(Grid("S", frame_of(rows)), 5), [1, 2],
                              LEDGERS["inspections"], frozenset({0}))
    assert sheet_match.columns["inspectors"] == "c5"
    assert sheet_match.ignored == ("出动人次（隐藏列，与可见列「出动人次」重复，未读取）",)


def test_a_hidden_column_alone_for_its_field_is_read():
    parsed = parse([HEADER, visit(people="3")], hidden_columns=frozenset({4}))
    assert parsed.rows["inspectors"].to_list() == [3] and problems(parsed) == []


def test_a_hidden_duplicate_column_is_listed_in_the_load_report(ws):
    write_laid_out(ws.path("inspections/2024-03.xlsx"), [[*HEADER, "检查日期"], [*visit(), "2024-03-31"]],
                   hidden_columns=(6,))
    ws.run()
    assert ws.one("SELECT ignored_columns FROM file_versions") == ["检查日期（隐藏列，与可见列「检查日期」重复，未读取）"]
    assert ws.one("SELECT inspection_date FROM raw.inspections") == date(2024, 3, 5)


# 3. Merged data cells


def test_merged_text_and_dates_apply_to_every_row_a_count_goes_back_naming_the_range():
    rows = [["执法检查台账"], ["序号", *HEADER, "执法人员"],
            ["1", "2024-07-09", "日常检查", "甲网吧", "网吧", "4", "未发现问题", "张某、李某"],
            ["2", None, None, "乙网吧", "网吧", None, "未发现问题", None],
            ["3", None, None, "丙网吧", "网吧", None, "未发现问题", None],
            ["4", "2024-07-10", "日常检查", "丁网吧", "网吧", "2", "未发现问题", "王某"]]
    spans = ((1, "B"), (2, "C"), (5, "F"), (7, "H"))
    merges = (MergedRange(1, 1, 0, 8, "A1:I1"), *(MergedRange(3, 5, c, c, f"{a}3:{a}5") for c, a in spans))
    parsed = parse(rows, merges=merges)
    assert problems(parsed) == [
        (r, "出动人次", "4", "merged_cells",
         f"第{r}行「出动人次」：「出动人次」在合并单元格 F3:F5 中，跨 3 行的数量无法分到各行，请取消合并并逐行填写（原值：「4」）")
        for r in (3, 4, 5)
    ]
    rows_out = parsed.rows.select("_row", "inspection_date", "inspection_type").rows()
    assert rows_out[:3] == [(r, date(2024, 7, 9), "日常检查") for r in (3, 4, 5)]
    assert loaded_rows(parsed) == {6}
    assert parsed.grid.filter(pl.col("_row") == 5)["c7"].to_list() == ["张某、李某"]


def test_a_cell_covered_by_a_merge_across_columns_names_the_merge():
    rows = [HEADER, ["2024-03-05", "日常检查", "某网吧", None, "2", "未发现问题"]]
    parsed = parse(rows, merges=(MergedRange(2, 2, 2, 3, "C2:D2"),))
    assert problems(parsed) == [
        (2, "场所类型", None, "required",
         "第2行「场所类型」：必填项为空（该格在合并单元格 C2:D2 中，合并单元格的内容只属于左上角的 C2，请取消合并并逐格填写）")]


# 4. Footer, signature and note rows


def test_a_data_column_whose_cell_starts_like_a_note_is_data(ws):
    header = ["备注", *HEADER]
    rows = [header, ["备注：已整改", *visit(venue="甲")], ["备注：复查", *visit(venue="乙")],
            ["说明情况", *visit(venue="丙")], [None, *visit(venue="丁")]]
    write_csv(ws.path("inspections/2024-03.csv"), rows)
    summary = ws.run()
    assert (summary.rows_read, summary.rows_loaded, summary.rows_skipped) == (4, 4, 0)
    assert ws.query("SELECT note FROM raw.inspections ORDER BY _row") == [
        ("备注：已整改",), ("备注：复查",), ("说明情况",), (None,)]


def test_signature_and_note_rows_of_real_forms_are_skipped_and_listed():
    rows = [["执法检查台账"], ["填报单位（盖章）：执法大队"], HEADER, visit(venue="甲"), visit(venue="乙"), [],
            ["单位负责人：", "马某", None, "填报人：", "杨某", "填报日期：2024年11月4日"],
            ["填 表 人：杨某", None, None, "审 核 人：马某"],
            ["联系电话：0951-1234567"],
            ["注：1.本表每月5日前报送；"], ["2.本表由执法大队填报。"], ["（3）数据以系统为准"],
            ["分管领导：某某"]]
    parsed = parse(rows)
    assert problems(parsed) == [] and loaded_rows(parsed) == {4, 5}
    assert parsed.skipped.rows() == [(7, "note", "单位负责人"), (8, "note", "填表人"), (9, "note", "联系电话"),
                                     (10, "note", "注:"), (11, "note", "2."), (12, "note", "（3）"),
                                     (13, "note", "分管领导")]
    assert accounted(parsed) and parsed.rows_read == 9


def test_a_row_with_a_label_and_mostly_valid_data_is_data_with_its_real_problems():
    rows = [HEADER, visit(), ["合计：2024-03-06", "日常检查", "某书店", "书店", "x", "未发现问题"]]
    parsed = parse(rows)
    assert [(r, h, rule) for r, h, _, rule, _ in problems(parsed)] == [
        (3, "检查日期", "date"), (3, "出动人次", "integer")]
    assert parsed.skipped.height == 0 and parsed.rows_read == 2


def test_a_total_row_keeps_its_check():
    rows = [HEADER, visit(people="2"), visit(people="3"), ["合 计", None, None, None, "6"]]
    parsed = parse(rows)
    assert problems(parsed) == [(4, "出动人次", "6", "total_mismatch", "第4行「出动人次」：合计行为 6，上方数据行之和为 5（原值：「6」）")]
    assert parsed.skipped.rows() == [(4, "total", "合计")]


def test_tally_files_says_what_was_skipped(ws):
    rows = [HEADER, visit(venue="甲"), visit(venue="乙"), visit(venue="丙"), visit(venue="丁"), visit(venue="戊"),
            ["填表人：王某"], ["审核人：李某"]]
    write_laid_out(ws.path("inspections/2024-03.xlsx"), rows, hidden_rows=(3, 4, 5), filtered=True)
    runner = CliRunner()
    run = runner.invoke(app, ["run", "--inbox", str(ws.inbox), "--warehouse", str(ws.warehouse)])
    assert run.exit_code == 0, run.output
    assert "跳过 skipped 5" in run.output.replace("\n", "")
    out = runner.invoke(app, ["files", "--format", "csv", "--warehouse", str(ws.warehouse)]).stdout
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert (row["rows_read"], row["rows_loaded"], row["rows_quarantined"], row["rows_skipped"]) == ("7", "2", "0", "5")
    assert row["skipped"] == "3 行被筛选隐藏，未载入；2 行为签名或说明行，未载入"
    assert runner.invoke(app, ["files", "--warehouse", str(ws.warehouse)]).exit_code == 0


# 6. The header a file most likely means


def test_a_missing_header_gets_the_template_header_it_most_likely_means(ws):
    header = ["检查日期", "检查方式", "检查对象", "场所类型", "出动人次", "检查结果"]
    write_csv(ws.path("inspections/2024-03.csv"), [header, visit()])
    ws.run()
    reason = ws.one("SELECT reason FROM file_versions")
    assert reason.endswith("；缺少必填列「检查类型」；表头中的「检查方式」是否就是「检查类型」？请改为模板表头后重新提交")


def test_a_file_without_any_header_is_not_quoted(ws):
    write_csv(ws.path("cases/2024-03.csv"), [  # one cell happens to read like a header: still data
        ["文罚〔2024〕1号", "2024-03-05", "张三", "个人", "640422199001011001", "13812345678", "案由"],
        ["文罚〔2024〕2号", "2024-03-06", "李四", "个人", "640422199001011002", "13812345679", "无证经营"]])
    ws.run()
    reason = ws.one("SELECT reason FROM file_versions")
    assert reason.endswith("；前 2 行中没有像表头的行（表头行至少要有两个单元格是模板的列名），请在数据上方加上模板的表头行后重新提交")
    assert "张三" not in reason and "6404" not in reason and "1381" not in reason


# The invariant, on random sheets


VENUES = ["甲网吧", "乙书店", "丙影院", "丁KTV"]
NOTES = ["已整改", "复查", "无问题"]


@st.composite
def random_sheets(draw):
    """A sheet with hidden rows, a hidden duplicate column, merged text cells, marked cells and blank rows."""
    hidden_twin = draw(st.booleans())  # a hidden 检查对象 column in A, before the visible one
    header = (["检查对象"] if hidden_twin else []) + [*HEADER, "备注"]
    shift = 1 if hidden_twin else 0
    rows: list[list] = [header]
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.integers(0, 4)) == 0:
            rows.append([])
            continue
        people = draw(st.sampled_from(["2", "3", "x", None]))
        row = visit(venue=draw(st.sampled_from(VENUES)), people=people)
        twin = ["隐藏值"] if hidden_twin else []
        rows.append([*twin, *row, draw(st.sampled_from([None, *NOTES]))])
    last = len(rows)  # spreadsheet row number of the last row
    hidden = frozenset(draw(st.sets(st.integers(2, last), max_size=3)))
    merges, mark_cells = [], []
    venue_col, note_col = 2 + shift, 6 + shift
    row = 2
    while row < last:  # merged text cells down 检查对象 or 备注, over non-blank rows
        span = draw(st.integers(1, 3))
        end = min(row + span - 1, last)
        if span > 1 and all(rows[r - 1] for r in range(row, end + 1)) and draw(st.booleans()):
            col = draw(st.sampled_from([venue_col, note_col]))
            letter = "ABCDEFGHIJ"[col]
            merges.append(MergedRange(row, end, col, col, f"{letter}{row}:{letter}{end}"))
            for r in range(row + 1, end + 1):
                rows[r - 1][col] = None  # the file holds the value in the top-left cell only
        row = end + 1
    for r in range(2, last + 1):
        if rows[r - 1] and draw(st.integers(0, 5)) == 0:
            col = draw(st.sampled_from([shift + 4, note_col, venue_col]))
            if not any(m.first_row < r <= m.last_row and m.first_col == col for m in merges):  # not covered
                rows[r - 1][col] = "#N/A"
                mark_cells.append((r, col, "error", "#N/A"))
    return rows, hidden, frozenset({0}) if hidden_twin else frozenset(), tuple(merges), mark_cells, shift


@settings(max_examples=120, deadline=None)
@given(random_sheets())
def test_every_visible_cell_is_loaded_as_shown_or_listed_and_every_row_is_counted(case):
    rows, hidden, hidden_columns, merges, mark_cells, shift = case
    parsed = parse(rows, hidden_rows=hidden, filtered_rows=frozenset(sorted(hidden)[:1]),
                   hidden_columns=hidden_columns, merges=merges, marks=marks(*mark_cells))
    assert accounted(parsed)
    shown = [list(r) for r in rows]  # what the clerk sees: merged values in every row they span
    for m in merges:
        for r in range(m.first_row + 1, m.last_row + 1):
            shown[r - 1][m.first_col] = shown[m.first_row - 1][m.first_col]
    visible = [r for r in range(2, len(rows) + 1) if rows[r - 1] and r not in hidden]
    listed = set(parsed.problems.filter(pl.col("severity") == "error")["_row"].to_list())
    loaded = {r: d for r, d in zip(parsed.rows["_row"].to_list(), parsed.rows.iter_rows(named=True), strict=True)
              if r not in listed}
    assert set(loaded) | listed == set(visible)  # every visible non-blank row: loaded or sent back
    assert parsed.rows_read == len(visible) + len([r for r in hidden if r <= len(rows) and rows[r - 1]])
    for r, row in loaded.items():  # a loaded row holds what the clerk sees, the visible column winning
        assert row["venue_name"] == shown[r - 1][2 + shift]
        assert row["note"] == shown[r - 1][6 + shift]
        assert row["inspectors"] == int(shown[r - 1][4 + shift])
    for m in merges:  # a marked cell merged down is marked in every row it spans
        mark_cells += [(r, m.first_col, k, t) for r0, c, k, t in list(mark_cells)
                       if (r0, c) == (m.first_row, m.first_col) for r in range(m.first_row + 1, m.last_row + 1)]
    names = {2 + shift: "venue_name", 4 + shift: "inspectors", 6 + shift: "note"}
    for r, col, _, text in mark_cells:  # a marked cell is never loaded, always told with what Excel shows
        if r in set(visible):
            assert r in listed
            told = parsed.problems.filter((pl.col("_row") == r) & (pl.col("column") == names[col]))
            assert told.select("raw_value", "rule").rows() == [(text, "excel_error")]


def test_a_warehouse_from_before_skipped_rows_is_read_and_then_upgraded(ws):
    import duckdb

    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"S": [HEADER, visit(), ["填表人：王某"]]})
    ws.run()
    with duckdb.connect(str(ws.warehouse)) as con:  # as a warehouse written before this change
        con.execute("DROP TABLE skipped_rows")
        con.execute("ALTER TABLE file_versions DROP COLUMN rows_skipped")
    runner = CliRunner()
    out = runner.invoke(app, ["files", "--format", "csv", "--warehouse", str(ws.warehouse)])
    assert out.exit_code == 0, out.output
    assert [r["rows_skipped"] for r in csv.DictReader(io.StringIO(out.stdout))] == [""]
    write_xlsx(ws.path("inspections/2024-04.xlsx"), {"S": [HEADER, visit(day="2024-04-01"), ["审核人：李某"]]})
    ws.run()
    assert ws.query("SELECT period, rows_skipped FROM file_versions ORDER BY period") == [
        ("2024-03", None), ("2024-04", 1)]
    assert ws.query("SELECT row, kind, label FROM skipped_rows") == [(3, "note", "审核人")]


def test_a_hidden_twin_of_a_personal_column_is_masked_in_quarantine(ws):
    rows = [[*CASES, "证件号码"],
            ["文罚〔2024〕1号", "2024-03-05", "张三", "个人", "640422199001010017", "", "640422199001010025"]]
    write_laid_out(ws.path("cases/2024-03.xlsx"), rows, hidden_columns=(6,))
    ws.run()
    [(cells,)] = ws.query("SELECT cells FROM quarantined_rows")  # 案由 is blank: the row goes back
    assert "640422199001010025" not in cells and "640422199001010017" not in cells
