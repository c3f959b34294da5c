"""Rules across rows and ledgers (sql/checks): each broken by small files, each an exact warning."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest
from ledgerfiles import write_xlsx

from flows.transform import indicators
from flows.validate.cross_checks import run_cross_checks

INSPECTION = ["检查日期", "检查类型", "检查对象", "场所类型", "出动人次", "执法人员", "检查结果"]
STAFF = ["姓名", "执法证号", "证件有效期至", "岗位"]
CASE = ["案件编号", "立案日期", "当事人", "当事人类型", "案由", "处罚决定日期", "公示日期", "结案日期"]
WARNINGS_SQL = 'SELECT path, row, "column", header, raw_value, rule, severity, message FROM check_warnings ORDER BY path, row'


def visit(day: str, officers: str) -> list:
    return [day, "日常检查", "某网吧", "网吧", 2, officers, "未发现问题"]


def case(no: str, filed: str, decided: str | None = None, disclosed: str | None = None) -> list:
    return [no, filed, "某公司", "单位", "无证经营", decided, disclosed, None]


def checked(ws) -> pl.DataFrame:
    ws.run()
    with duckdb.connect(str(ws.warehouse)) as con:
        indicators.build(con)
        return run_cross_checks(con)


def warnings(ws, rule: str | None = None) -> list[tuple]:
    rows = ws.query(WARNINGS_SQL)
    return [r for r in rows if rule is None or r[5] == rule]


def test_officers_must_be_on_the_roster_with_a_valid_certificate(ws):
    write_xlsx(ws.path("staff/执法人员名录2024-01-01.xlsx"), {"S": [STAFF, ["张三", "A1", "2024-06-30", "执法"],
                                                                        ["李四", "A2", "2026-12-31", "执法"]]})
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"S": [
        INSPECTION, visit("2024-03-05", "张三、李四"), visit("2024-03-06", "李四、王五"), visit("2024-03-07", "")]})
    write_xlsx(ws.path("inspections/2024-07.xlsx"), {"S": [INSPECTION, visit("2024-07-01", "张三，李四")]})
    result = checked(ws)
    assert result.filter(pl.col("check") == "officer_not_certified")["warnings"].to_list() == [2]
    # Names are compared by their keyed hashes and shown masked, as the warehouse holds them.
    assert warnings(ws, "officer_not_certified") == [
        ("inspections/2024-03.xlsx", 3, "officers", "执法人员", "李某、王某", "officer_not_certified", "warning",
         "第3行「执法人员」：王某不在2024-01-01的执法人员名录中（执法人员应持证上岗）（原值：「李某、王某」）"),
        ("inspections/2024-07.xlsx", 2, "officers", "执法人员", "张某、李某", "officer_not_certified", "warning",
         "第2行「执法人员」：张某的执法证有效期至2024-06-30，检查当日已过期（执法人员应持证上岗）（原值：「张某、李某」）"),
    ]


def test_the_roster_compared_is_the_latest_on_or_before_the_date_else_the_earliest(ws):
    write_xlsx(ws.path("staff/执法人员名录2024-06-30.xlsx"), {"S": [STAFF, ["张三", "A1", "2026-12-31", "执法"]]})
    write_xlsx(ws.path("staff/执法人员名录2024-09-30.xlsx"), {"S": [STAFF, ["李四", "A2", "2026-12-31", "执法"]]})
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"S": [INSPECTION, visit("2024-03-05", "张三")]})  # earliest
    write_xlsx(ws.path("inspections/2024-08.xlsx"), {"S": [INSPECTION, visit("2024-08-05", "李四")]})  # 06-30
    write_xlsx(ws.path("inspections/2024-10.xlsx"), {"S": [INSPECTION, visit("2024-10-05", "张三")]})  # 09-30
    checked(ws)
    assert [(r[0], r[7].split("：")[1]) for r in warnings(ws)] == [
        ("inspections/2024-08.xlsx", "李某不在2024-06-30的执法人员名录中（执法人员应持证上岗）（原值"),
        ("inspections/2024-10.xlsx", "张某不在2024-09-30的执法人员名录中（执法人员应持证上岗）（原值"),
    ]


def test_a_cited_case_number_must_exist_in_the_register_whatever_its_brackets(ws):
    write_xlsx(ws.path("cases/2024-03.xlsx"), {"S": [CASE, case("西文旅罚〔2024〕7号", "2024-03-01")]})
    header = ["处置日期", "场所名称", "出版物名称", "处置方式", "数量", "关联案件编号"]
    write_xlsx(ws.path("publications/2024-03.xlsx"), {"S": [
        header, ["2024-03-05", "某书店", "甲", "收缴", 3, "西文旅罚【2024】7号"],
        ["2024-03-06", "某书店", "乙", "收缴", 3, "西文旅罚〔2024〕8号"], ["2024-03-07", "某书店", "丙", "下架", 3, None]]})
    checked(ws)
    assert warnings(ws) == [("publications/2024-03.xlsx", 3, "case_no", "关联案件编号", "西文旅罚〔2024〕8号",
                             "case_not_found", "warning",
                             "第3行「关联案件编号」：案件台账中没有这个案件编号（原值：「西文旅罚〔2024〕8号」）")]


def test_a_decision_more_than_90_days_after_filing_is_a_warning_on_the_current_row(ws):
    write_xlsx(ws.path("cases/2024-03.xlsx"), {"S": [CASE, case("A1", "2024-03-01"), case("A2", "2024-03-01")]})
    write_xlsx(ws.path("cases/2024-06.xlsx"), {"S": [CASE, case("A2", "2024-03-01", "2024-05-30", "2024-06-03"),
                                                     case("A1", "2024-03-01", "2024-05-31", "2024-06-03")]})
    checked(ws)
    assert warnings(ws, "decision_late") == [
        ("cases/2024-06.xlsx", 3, "decided_on", "处罚决定日期", "2024-05-31", "decision_late", "warning",
         "第3行「处罚决定日期」：立案（2024-03-01）后第91天才作出处罚决定，超过90天（如经批准延期请备注）"
         "（原值：「2024-05-31」）")]


@pytest.mark.parametrize(
    ("decided", "disclosed", "late"),
    [
        # National Day 2024: 1–7 Oct off; Sun 29 Sep and Sat 12 Oct are make-up working days.
        ("2024-09-27", "2024-10-12", False),  # 29 Sep, 30 Sep, 8–12 Oct: the 7th working day
        ("2024-09-27", "2024-10-13", True),
        ("2024-03-01", "2024-03-12", False),  # Fri → the following Tue week is the 7th
        ("2024-03-01", "2024-03-13", True),
        ("2024-03-01", None, False),  # not published yet: nothing to judge
    ],
)
def test_a_penalty_published_after_7_working_days_on_the_official_calendar(ws, decided, disclosed, late):
    write_xlsx(ws.path("cases/2024-10.xlsx"), {"S": [CASE, case("A1", "2024-02-20", decided, disclosed)]})
    checked(ws)
    got = warnings(ws, "disclosure_late")
    assert bool(got) == late
    if late:
        assert got[0][:7] == ("cases/2024-10.xlsx", 2, "disclosed_on", "公示日期", disclosed, "disclosure_late",
                              "warning")


def test_the_problem_log_holds_load_problems_rejected_files_and_check_warnings_and_is_rebuilt(ws):
    write_xlsx(ws.path("cases/2024-03.xlsx"), {"S": [CASE, case("A1", "2024-03-01", "2024-02-01"),
                                                     case("A2", "2024-01-02", "2024-04-30")]})
    ws.path("hotline").mkdir()
    ws.path("hotline/2024-03.xlsx").write_bytes(b"")
    checked(ws)
    with duckdb.connect(str(ws.warehouse)) as con:
        run_cross_checks(con)  # a second run replaces, never appends
        log = con.execute("SELECT source, ledger, path, row, rule, severity FROM problem_log ORDER BY path, rule").fetchall()
    assert log == [("load", "cases", "cases/2024-03.xlsx", 2, "date_order", "error"),
                   ("check", "cases", "cases/2024-03.xlsx", 3, "decision_late", "warning"),
                   ("rejected", "hotline", "hotline/2024-03.xlsx", None, "file_rejected", "error")]


def test_cross_checks_need_the_models(ws):
    from flows.errors import TallyError

    ws.run()
    with duckdb.connect(str(ws.warehouse)) as con, pytest.raises(TallyError, match="先构建模型"):
        run_cross_checks(con)


def test_the_2024_sample_carries_exactly_the_mistakes_of_its_manifest(tmp_path):
    """Rows and rules agree exactly; the values told are masked or canonical where the manifest is clear."""
    from flows.run.stages import run_ingest
    from flows.sample.inbox import write_sample_inbox

    manifest = write_sample_inbox(2024, tmp_path / "inbox")
    warehouse = tmp_path / "w" / "tally.duckdb"
    run_ingest(manifest.out, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        indicators.build(con)
        run_cross_checks(con)
        # Every version's problems: a mistake in a month that a revision later replaced still
        # quarantined its row when it was loaded.
        found = con.execute("""
            SELECT path, coalesce(sheet, '') AS sheet, row, header, rule, severity FROM problems
            UNION ALL
            SELECT path, coalesce(sheet, ''), row, header, rule, severity FROM check_warnings
        """).fetchall()
    planted = [(m.path, m.sheet, m.row, m.header, m.rule, m.severity) for m in manifest.mistakes]
    assert sorted(found) == sorted(planted)
