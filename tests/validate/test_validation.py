"""Each rule of the expectation suites, broken by a small file, gives exactly its record (issue 3)."""

from __future__ import annotations

import json

import duckdb
import pytest
from ledgerfiles import write_xlsx

from flows.contract.ledgers import LEDGERS
from flows.errors import AccountingError
from flows.validate.suites import SUITES_DIR, ledger_suite, suite_text

INSPECTION = ["检查日期", "检查类型", "专项行动名称", "抽查任务编号", "检查对象", "场所类型", "出动人次", "检查结果"]
CASE = ["案件编号", "立案日期", "当事人", "当事人类型", "证件号码", "案由", "处罚决定日期", "结案日期"]
PROBLEM_SQL = "SELECT path, sheet, row, header, raw_value, rule, severity, message FROM problems ORDER BY path, row, rule"


def visit(day="2024-03-05", kind="日常检查", campaign=None, task=None, people=2) -> list:
    return [day, kind, campaign, task, "某网吧", "网吧", people, "未发现问题"]


def case(no="A1", filed="2024-03-01", party_id=None, decided=None, closed=None) -> list:
    return [no, filed, "某公司", "单位", party_id, "无证经营", decided, closed]


def problems(ws) -> list[tuple]:
    return ws.query(PROBLEM_SQL)


# The suites as data


def test_the_suites_on_disk_are_the_ones_the_contract_builds():
    for code, ledger in LEDGERS.items():
        assert (SUITES_DIR / f"{code}.json").read_text(encoding="utf-8") == suite_text(ledger), code


def test_every_expectation_names_its_rule_severity_and_chinese_message():
    rules = set()
    for ledger in LEDGERS.values():
        suite = json.loads(suite_text(ledger))
        assert suite["name"] == ledger.code
        for expectation in suite["expectations"]:
            meta = expectation["meta"]
            assert meta["severity"] in ("error", "warning")
            assert any("\u4e00" <= ch <= "\u9fff" for ch in meta["message"]), meta
            assert meta["column"] in {c.name for c in ledger.columns}
            rules.add((meta["rule"], meta["severity"]))
    assert rules == {("required", "error"), ("enum", "error"), ("minimum", "error"),
                     ("duplicate_key", "error"), ("date_order", "error"), ("required_if", "error"),
                     ("outside_period", "warning"), ("url", "warning"), ("id_check_digit", "warning")}


def test_ranges_are_in_the_suites_for_every_column_with_a_minimum():
    for ledger in LEDGERS.values():
        minimums = {e["kwargs"]["column"]: e["kwargs"]["min_value"]
                    for e in ledger_suite(ledger)["expectations"] if e["meta"]["rule"] == "minimum"}
        assert minimums == {c.name: c.minimum for c in ledger.columns if c.minimum is not None}


# Errors quarantine the row; the rest of the file loads


def test_a_blank_required_cell_is_reported_once(ws):
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"3月": [INSPECTION, visit(), visit(people=None)]})
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (1, 1)
    assert problems(ws) == [("inspections/2024-03.xlsx", "3月", 3, "出动人次", None, "required", "error",
                             "第3行「出动人次」：必填项为空")]


def test_a_value_outside_an_enumeration_is_reported_once(ws):
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"S": [INSPECTION, visit(kind="巡查")]})
    ws.run()
    [(_, _, row, header, raw, rule, severity, message)] = problems(ws)
    assert (row, header, raw, rule, severity) == (2, "检查类型", "巡查", "enum", "error")
    assert "日常检查、双随机抽查、联合抽查、网上巡查、专项检查" in message


@pytest.mark.parametrize(
    ("folder", "rows", "header", "minimum"),
    [
        ("inspections", [INSPECTION, visit(people=0)], "出动人次", 1),
        ("study_sessions", [["日期", "形式", "学习专题", "参加人数"], ["2024-03-05", "会前学法", "法律法规", "0人"]],
         "参加人数", 1),
        ("publications", [["处置日期", "场所名称", "出版物名称", "处置方式", "数量"],
                          ["2024-03-05", "某书店", "某书", "收缴", "0本"]], "数量", 1),
        ("relic_patrols", [["巡查日期", "文物名称", "保护级别", "出动人次"], ["2024-03-05", "某遗址", "国保", 0]],
         "出动人次", 1),
    ],
)
def test_a_count_below_its_minimum_is_quarantined_under_rule_minimum(ws, folder, rows, header, minimum):
    write_xlsx(ws.path(f"{folder}/2024-03.xlsx"), {"S": rows})
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (0, 1)
    [(_, _, row, got_header, raw, rule, severity, message)] = problems(ws)
    assert (row, got_header, rule, severity) == (2, header, "minimum", "error")
    assert message == f"第2行「{header}」：不能小于{minimum}（原值：「{raw}」）"


def test_a_negative_amount_stays_a_bad_money_value_not_a_second_problem(ws):
    header = ["案件编号", "立案日期", "当事人", "当事人类型", "案由", "罚款金额（元）"]
    write_xlsx(ws.path("cases/2024-03.xlsx"), {"S": [header, ["A1", "2024-03-01", "某公司", "单位", "x", "-200"]]})
    ws.run()
    assert [(r[3], r[5]) for r in problems(ws)] == [("罚款金额（元）", "money")]


def test_a_key_twice_in_one_file_quarantines_the_later_row_whatever_its_brackets(ws):
    rows = [CASE, case("西文旅罚〔2024〕7号"), case("A2"), case("西文旅罚[2024]7号")]
    write_xlsx(ws.path("cases/2024-03.xlsx"), {"S": rows})
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (2, 1)
    assert problems(ws) == [("cases/2024-03.xlsx", "S", 4, "案件编号", "西文旅罚[2024]7号", "duplicate_key", "error",
                             "第4行「案件编号」：与第2行重复（同一文件中案件编号不能重复）（原值：「西文旅罚[2024]7号」）")]


def test_the_same_key_in_two_files_is_no_duplicate(ws):
    write_xlsx(ws.path("cases/2024-03.xlsx"), {"S": [CASE, case("A1")]})
    write_xlsx(ws.path("cases/2024-04.xlsx"), {"S": [CASE, case("A1")]})
    assert ws.run().rows_quarantined == 0


def test_dates_of_a_case_out_of_order_are_one_error_per_row(ws):
    rows = [CASE,
            case("A1", decided="2024-02-28"),  # decided before filed
            case("A2", decided="2024-03-10", closed="2024-03-09"),  # closed before decided
            case("A3", closed="2024-02-01"),  # no decision yet, closed before filed
            case("A4", decided="2024-02-20", closed="2024-02-10"),  # both: told once
            case("A5", decided="2024-03-01", closed="2024-03-01")]  # same day is in order
    write_xlsx(ws.path("cases/2024-03.xlsx"), {"S": rows})
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (1, 4)
    got = [(r[2], r[3], r[4], r[5], r[6]) for r in problems(ws)]
    assert got == [(2, "处罚决定日期", "2024-02-28", "date_order", "error"),
                   (3, "结案日期", "2024-03-09", "date_order", "error"),
                   (4, "结案日期", "2024-02-01", "date_order", "error"),
                   (5, "处罚决定日期", "2024-02-20", "date_order", "error")]
    assert problems(ws)[0][7] == ("第2行「处罚决定日期」：处罚决定日期早于立案日期（2024-03-01），"
                                  "应为 立案日期 ≤ 处罚决定日期 ≤ 结案日期（原值：「2024-02-28」）")


def test_campaign_and_task_number_are_required_for_their_inspection_types(ws):
    rows = [INSPECTION, visit(kind="专项检查"), visit(kind="双随机"), visit(kind="联合抽查"),
            visit(kind="专项检查", campaign="春节文化市场专项检查"), visit(kind="双随机抽查", task="SJ-2024-01"),
            visit(kind="日常检查")]
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"S": rows})
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (3, 3)
    assert problems(ws) == [
        ("inspections/2024-03.xlsx", "S", 2, "专项行动名称", None, "required_if", "error",
         "第2行「专项行动名称」：检查类型为专项检查时必须填写专项行动名称"),
        ("inspections/2024-03.xlsx", "S", 3, "抽查任务编号", None, "required_if", "error",
         "第3行「抽查任务编号」：检查类型为双随机抽查或联合抽查时必须填写抽查任务编号"),
        ("inspections/2024-03.xlsx", "S", 4, "抽查任务编号", None, "required_if", "error",
         "第4行「抽查任务编号」：检查类型为双随机抽查或联合抽查时必须填写抽查任务编号"),
    ]
    cells = ws.one("SELECT cells FROM quarantined_rows WHERE row = 2")
    assert '"检查类型":"专项检查"' in cells


# Warnings load the row and are recorded against it


def test_a_row_dated_outside_its_files_month_loads_with_a_warning(ws):
    rows = [INSPECTION, visit(), visit(day="2024-02-29"), visit(day="2024-04-01")]
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"S": rows})
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined, summary.warnings) == (3, 0, 2)
    assert problems(ws) == [
        ("inspections/2024-03.xlsx", "S", 3, "检查日期", "2024-02-29", "outside_period", "warning",
         "第3行「检查日期」：日期不在本文件所属月份（2024-03）内，请确认是否填错日期或放错月份（原值：「2024-02-29」）"),
        ("inspections/2024-03.xlsx", "S", 4, "检查日期", "2024-04-01", "outside_period", "warning",
         "第4行「检查日期」：日期不在本文件所属月份（2024-03）内，请确认是否填错日期或放错月份（原值：「2024-04-01」）"),
    ]


def test_the_month_of_a_yearly_workbook_sheet_is_its_period(ws):
    header = ["日期", "形式", "学习专题", "参加人数"]
    write_xlsx(ws.path("study_sessions/2024年学法培训台账.xlsx"), {
        "1月": [header, ["1月9日", "会前学法", "法律法规", 20]],
        "2月": [header, ["1月30日", "会前学法", "法律法规", 20], ["2月3日", "会前学法", "法律法规", 0]],
    })
    ws.run()
    assert [(r[1], r[2], r[5]) for r in problems(ws)] == [("2月", 2, "outside_period"), ("2月", 3, "minimum")]


def test_a_link_that_is_not_a_web_address_is_a_warning(ws):
    header = ["推送日期", "标题", "链接"]
    rows = [header, ["2024-03-01", "a", "https://mp.weixin.qq.com/s/abc"], ["2024-03-02", "b", "mp.weixin.qq.com/s/x"],
            ["2024-03-03", "c", "HTTP://example.cn/x"], ["2024-03-04", "d", None]]
    write_xlsx(ws.path("wechat_posts/2024-03.xlsx"), {"S": rows})
    summary = ws.run()
    assert (summary.rows_loaded, summary.warnings) == (4, 1)
    assert problems(ws) == [("wechat_posts/2024-03.xlsx", "S", 3, "链接", "mp.weixin.qq.com/s/x", "url", "warning",
                             "第3行「链接」：不是有效的网址（应以 http:// 或 https:// 开头）（原值：「mp.weixin.qq.com/s/x」）")]


def test_bad_check_digits_of_ids_are_warnings_and_stay_masked(ws):
    from flows.privacy.masking import valid_resident_id, valid_uscc

    good_id, good_code = valid_resident_id("64042219900101123"), valid_uscc("91640422MA76ABCDE")
    bad_id = good_id[:-1] + ("0" if good_id[-1] != "0" else "1")
    bad_code = good_code[:-1] + ("0" if good_code[-1] != "0" else "1")
    rows = [CASE, case("A1", party_id=good_id), case("A2", party_id=bad_id), case("A3", party_id=good_code),
            case("A4", party_id=bad_code), case("A5", party_id="12345")]
    write_xlsx(ws.path("cases/2024-03.xlsx"), {"S": rows})
    summary = ws.run()
    assert (summary.rows_loaded, summary.warnings) == (5, 2)
    got = problems(ws)
    assert [(r[2], r[4], r[5], r[6]) for r in got] == [
        (3, bad_id[:6] + "*" * 8 + bad_id[-4:], "id_check_digit", "warning"),
        (5, bad_code[:6] + "*" * 8 + bad_code[-4:], "id_check_digit", "warning"),
    ]
    assert "GB 11643" in got[0][7] and "GB 32100" in got[1][7]
    assert bad_id not in str(got) and bad_code not in str(got)


def test_problems_are_told_against_the_right_file_of_a_batch(ws):
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"S": [INSPECTION, visit(), visit(people=0)]})
    write_xlsx(ws.path("inspections/2024-04.xlsx"), {"S": [INSPECTION, visit(day="2024-04-02", people=0),
                                                           visit(day="2024-04-03")]})
    summary = ws.run()
    assert (summary.rows_loaded, summary.rows_quarantined) == (2, 2)
    assert [(r[0], r[2], r[5]) for r in problems(ws)] == [
        ("inspections/2024-03.xlsx", 3, "minimum"), ("inspections/2024-04.xlsx", 2, "minimum")]
    assert ws.query("SELECT rows_read, rows_loaded, rows_quarantined FROM file_versions ORDER BY path") == [
        (2, 1, 1), (2, 1, 1)]


# Nothing lost; the docs


def test_a_run_that_would_break_the_accounting_fails_and_publishes_nothing(ws):
    from functools import partial

    from flows.load.loader import load_unit
    from flows.run.stages import Steps

    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"S": [INSPECTION, visit(), visit(people=0)]})
    loses_rows = partial(load_unit, quarantine=lambda parsed, rows: parsed.grid.clear().select("_row"))
    with pytest.raises(AccountingError, match="读取 2 行，载入 1 行 \\+ 隔离 0 行"):
        ws.run(steps=Steps(load_unit=loses_rows))
    assert ws.one("SELECT count(*) FROM file_versions") == 0
    assert ws.one("SELECT count(*) FROM raw.inspections") == 0


def test_data_docs_are_built_beside_the_warehouse_without_personal_data(ws):
    from flows.run.stages import ingest
    from flows.validate.data_docs import build_data_docs, docs_folder

    write_xlsx(ws.path("cases/2024-03.xlsx"), {"S": [CASE, ["A1", "2024-03-01", "王小明", "个人",
                                                             "640422199001011230", "x", "2024-02-01", None]]})
    found = ingest(ws.inbox, ws.warehouse)
    with duckdb.connect(str(ws.warehouse)) as con:
        index = build_data_docs(docs_folder(con), dict(found.suites))
    assert index == ws.warehouse.parent / "docs" / "index.html" and index.exists()
    pages = "".join(p.read_text(encoding="utf-8") for p in index.parent.rglob("*.html"))
    assert "cases" in pages
    assert "王小明" not in pages and "640422199001011230" not in pages


def test_a_published_run_renders_its_data_docs_in_a_child_process(ws):
    from flows.run.pipeline import run_pipeline

    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"S": [INSPECTION, visit(), visit(people=0)]})
    done = run_pipeline(ws.inbox, ws.warehouse)
    index = ws.warehouse.parent / "docs" / "index.html"
    # Wait for the child itself, not for a file to appear: no race with its writing.
    assert done.docs is not None and done.docs.wait(timeout=600) == 0  # the timeout: a guard only
    assert index.exists(), (ws.warehouse.parent / "docs-build.log").read_text(errors="replace")
    pages = "".join(p.read_text(encoding="utf-8") for p in index.parent.rglob("*.html"))
    assert "inspections" in pages and "1 unexpected" in pages  # 出动人次 0 breaks its minimum
    assert not list(ws.warehouse.parent.glob(".docs-job-*.json"))  # the job file is cleaned up
