"""Ledger files in every messy form the templates allow load to the right values (§1–3, §5)."""

from __future__ import annotations

import os
import time
from datetime import date
from decimal import Decimal

import pytest
from ledgerfiles import write_csv, write_xls, write_xlsx

INSPECTION_HEADER = [
    "序号",
    "检查日期",
    "检查类型",
    "检查对象",
    "场所类型",
    "出动人次",
    "执法人员",
    "检查结果",
]
TITLE = [["西吉县文化旅游广电局执法检查台账（2024年3月）"], [], ["填报单位：执法大队"]]


def inspection(n: int, day: object = "2024-03-05", people: object = 2) -> list:
    return [n, day, "日常检查", f"场所{n}", "网吧", people, "张三、李四", "未发现问题"]


def test_title_rows_totals_and_signatures_are_not_data(ws):
    rows = [
        *TITLE,
        INSPECTION_HEADER,
        inspection(1),
        [],
        inspection(2, people=3),
        ["合计", None, None, None, None, 5],
        ["填表人：王某", None, "审核人：李某"],
        ["填报日期：2024-04-01"],
    ]
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"3月": rows})
    summary = ws.run()
    # Rows read counts the 合计 and signature rows too: read, and skipped with their label.
    assert (summary.files_loaded, summary.rows_read, summary.rows_loaded, summary.rows_skipped,
            summary.warnings) == (1, 5, 2, 3, 0)
    assert ws.query("SELECT row, kind, label FROM skipped_rows ORDER BY row") == [
        (8, "total", "合计"), (9, "note", "填表人"), (10, "note", "填报日期")]
    got = ws.query(
        "SELECT _row, venue_name, inspectors, officers, _sheet FROM raw.inspections ORDER BY _row"
    )
    assert got == [
        (5, "场所1", 2, ["张某", "李某"], "3月"),  # officers are masked like anyone
        (7, "场所2", 3, ["张某", "李某"], "3月"),
    ]


def test_a_total_that_does_not_add_up_is_a_warning(ws):
    rows = [
        INSPECTION_HEADER,
        inspection(1),
        inspection(2, people=3),
        ["合计", None, None, None, None, 6],
    ]
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"Sheet1": rows})
    ws.run()
    assert ws.one("SELECT row, header, raw_value, rule, severity, message FROM problems") == (
        4,
        "出动人次",
        "6",
        "total_mismatch",
        "warning",
        "第4行「出动人次」：合计行为 6，上方数据行之和为 5（原值：「6」）",
    )
    assert ws.one("SELECT count(*) FROM raw.inspections") == 2


def test_two_row_header_with_a_merged_group_cell(ws):
    upper = ["活动日期", "活动名称", "活动主题", "活动形式", "宣传品发放", None, None, "覆盖人次"]
    lower = [None, None, None, None, "海报（张）", "折页（份）", "横幅（条）", None]
    data = ["2024-04-23", "读书日进校园", "4·23", "现场", "1,200", "300", "2", "500人次"]
    merges = [
        (0, 4, 0, 6, "宣传品发放"),
        (0, 0, 1, 0, "活动日期"),
        (0, 1, 1, 1, "活动名称"),
        (0, 2, 1, 2, "活动主题"),
        (0, 3, 1, 3, "活动形式"),
        (0, 7, 1, 7, "覆盖人次"),
    ]
    write_xlsx(
        ws.path("普法宣传活动台账/2024年4月.xlsx"),
        {"Sheet1": [upper, lower, data]},
        merges={"Sheet1": merges},
    )
    ws.run()
    assert ws.one(
        "SELECT event_date, theme, mode, posters, leaflets, banners, reach, _row "
        "FROM raw.publicity_events"
    ) == (date(2024, 4, 23), "世界读书日", "线下", 1200, 300, 2, 500, 3)


def test_header_aliases_line_breaks_units_full_width_and_column_order(ws):
    header = [
        "检查场所",
        "出动\n人数",
        "日期",
        "备注说明",
        "场所类型",
        "检查类型",
        "处理结果",
        "序号",
    ]
    row = ["某书店", "３人", "2024年3月5日", "extra", "书店", "日常巡查", "合格", 1]
    write_xlsx(ws.path("inspections/202403.xlsx"), {"Sheet1": [header, row]})
    ws.run()
    assert ws.one(
        "SELECT venue_name, inspectors, inspection_date, venue_type, inspection_type, result "
        "FROM raw.inspections"
    ) == ("某书店", 3, date(2024, 3, 5), "出版物经营单位", "日常检查", "未发现问题")
    assert ws.one("SELECT ignored_columns FROM file_versions") == ["备注说明", "序号"]


def test_hidden_sheets_and_sheets_without_a_header_are_skipped(ws):
    old = [INSPECTION_HEADER, inspection(1, people=9)]
    notes = [["填表说明"], ["每月5日前报送"]]
    write_xlsx(
        ws.path("inspections/2024-03.xlsx"),
        {"旧模板": old, "说明": notes, "台账": [INSPECTION_HEADER, inspection(1)]},
        hidden=("旧模板",),
    )
    ws.run()
    assert ws.one("SELECT inspectors, _sheet FROM raw.inspections") == (2, "台账")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_every_encoding(ws, encoding):
    write_csv(
        ws.path("inspections/2024.3.csv"),
        [*TITLE, INSPECTION_HEADER, inspection(1, day="2024/3/5")],
        encoding=encoding,
    )
    summary = ws.run()
    assert summary.rows_loaded == 1, summary.rejected
    assert ws.one("SELECT inspection_date, venue_name, _row FROM raw.inspections") == (
        date(2024, 3, 5),
        "场所1",
        5,
    )


def test_old_excel_xls(ws):
    write_xls(
        ws.path("inspections/2024年03月.xls"),
        [*TITLE, INSPECTION_HEADER, inspection(1, day=date(2024, 3, 7))],
    )
    ws.run()
    assert ws.one("SELECT inspection_date, _row FROM raw.inspections") == (date(2024, 3, 7), 5)


def test_yearly_workbook_has_a_sheet_per_month(ws):
    header = ["日期", "形式", "学习专题", "参加人数"]
    sheets = {
        "1月": [header, ["1月9日", "会前学法", "习近平法治思想", 20]],
        "02": [header, ["2.20", "培训", "法律法规", "18人"]],
        "3月": [header],  # a zero report
        "4月": [],  # not filled in yet
        "汇总": [["全年合计"]],
    }
    write_xlsx(ws.path("study_sessions/2024年学法培训台账.xlsx"), sheets)
    summary = ws.run()
    assert summary.files_loaded == 1  # one workbook: its three month sheets are three versions
    assert ws.query(
        "SELECT period, sheet, rows_read, zero_report FROM file_versions ORDER BY period"
    ) == [("2024-01", "1月", 1, False), ("2024-02", "02", 1, False), ("2024-03", "3月", 0, True)]
    assert ws.query(
        "SELECT held_on, format, attendees FROM raw.study_sessions ORDER BY held_on"
    ) == [(date(2024, 1, 9), "会前学法", 20), (date(2024, 2, 20), "专题培训", 18)]


def test_every_date_form(ws):
    forms = [
        (date(2024, 3, 5), date(2024, 3, 5)),
        ("2024-03-06", date(2024, 3, 6)),
        ("2024/3/7", date(2024, 3, 7)),
        ("2024.3.8", date(2024, 3, 8)),
        ("2024年3月9日", date(2024, 3, 9)),
        ("20240310", date(2024, 3, 10)),
        ("3月11日", date(2024, 3, 11)),
        ("3.12", date(2024, 3, 12)),
        (45364, date(2024, 3, 13)),
        ("45365", date(2024, 3, 14)),
    ]
    rows = [INSPECTION_HEADER] + [inspection(i, day=raw) for i, (raw, _) in enumerate(forms, 1)]
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"Sheet1": rows})
    ws.run()
    got = [r[0] for r in ws.query("SELECT inspection_date FROM raw.inspections ORDER BY _row")]
    assert got == [want for _, want in forms]


def test_money_yes_no_and_default_forms_in_a_register(ws):
    header = [
        "案件编号",
        "立案日期",
        "当事人",
        "当事人类型",
        "案由",
        "罚款金额（万元）",
        "没收违法所得（元）",
        "法制审核",
        "全过程记录",
        "行政复议",
    ]
    rows = [
        header,
        [
            "西文旅罚[2024]1号",
            "2024-03-01",
            "某网吧",
            "企业",
            "接纳未成年人",
            "0.12",
            "1,200.50元",
            "是",
            "√",
            None,
        ],
        [
            "西文旅罚【2024】2号",
            "2024-03-02",
            "王小明",
            "自然人",
            "无证经营",
            "0.5万",
            "0.12万元",
            "N",
            "×",
            "否",
        ],
        [
            "西文旅罚(2024)3号",
            "2024-03-03",
            "欧阳娜娜",
            "个人",
            "超范围经营",
            "-",
            "—",
            "TRUE",
            "0",
            "有",
        ],
    ]
    write_xlsx(ws.path("cases/2024-03.xlsx"), {"Sheet1": rows})
    ws.run()
    got = ws.query(
        "SELECT case_no, party, party_type, fine_yuan, confiscated_yuan, legal_review, recorded, "
        "reconsideration FROM raw.cases ORDER BY _row"
    )
    assert got == [
        (
            "西文旅罚〔2024〕1号",
            "某网吧",
            "单位",
            Decimal("1200.00"),
            Decimal("1200.50"),
            True,
            True,
            False,
        ),
        (
            "西文旅罚〔2024〕2号",
            "王某某",
            "个人",
            Decimal("5000.00"),
            Decimal("1200.00"),
            False,
            False,
            False,
        ),
        (
            "西文旅罚〔2024〕3号",
            "欧阳某某",
            "个人",
            Decimal("0.00"),
            Decimal("0.00"),
            True,
            False,
            True,
        ),
    ]


def test_personal_data_is_masked_with_keys_beside_it(ws):
    header = ["案件编号", "立案日期", "当事人", "当事人类型", "证件号码", "联系电话", "案由"]
    rows = [
        header,
        ["X1", "2024-03-01", "王五", "个人", "64042219900101123X", "13812345678", "无证经营"],
        ["X2", "2024-03-02", "赵六", "个人", "640422199001011235", "1391234567", "无证经营"],
        ["X3", "2024-13-02", "孙七", "个人", "640422199001011236", "13912345679", "无证经营"],
    ]
    write_xlsx(ws.path("cases/2024-03.xlsx"), {"Sheet1": rows})
    ws.run()
    first = ws.query(
        "SELECT party, party_id, phone, length(party_key), party_id_kind FROM raw.cases ORDER BY _row"
    )[0]
    assert first == ("王某", "640422********123X", "138****5678", 16, "resident_id")
    # Nothing in clear anywhere: not in the quarantine, not in the problem messages.
    dump = str(ws.query("SELECT * FROM quarantined_rows")) + str(ws.query("SELECT * FROM problems"))
    assert "孙七" not in dump and "640422199001011236" not in dump and "13912345679" not in dump
    assert "孙某" in dump


@pytest.mark.parametrize(
    "name",
    [
        "2024-03.xlsx",
        "2024年3月.xlsx",
        "2024年03月.xlsx",
        "202403.xlsx",
        "2024.3.xlsx",
        "执法检查台账2024年3月.xlsx",
    ],
)
def test_period_from_every_name_form(ws, name):
    write_xlsx(ws.path(f"执法检查台账/{name}"), {"Sheet1": [INSPECTION_HEADER, inspection(1)]})
    ws.run()
    assert ws.one("SELECT ledger, period, status FROM file_versions") == (
        "inspections",
        "2024-03",
        "loaded",
    )


@pytest.mark.parametrize(
    "rows",
    [
        [INSPECTION_HEADER],
        [INSPECTION_HEADER, [None, "本月无"]],
        [*TITLE, INSPECTION_HEADER, ["无此项"], ["填表人：王某"]],
    ],
)
def test_zero_reports_count_as_submitted(ws, rows):
    write_xlsx(
        ws.path("safety_incidents/2024-03.xlsx"),
        {
            "Sheet1": [
                ["发生日期", "场所名称", "事故等级"] if r is INSPECTION_HEADER else r for r in rows
            ]
        },
    )
    summary = ws.run()
    # The 无 row and the signature are read and skipped: a zero report loads no row.
    skipped = sum(1 for r in rows[rows.index(INSPECTION_HEADER) + 1:] if r)
    assert (summary.files_loaded, summary.rows_read, summary.rows_skipped) == (1, skipped, skipped)
    assert ws.one("SELECT status, zero_report, rows_read, rows_loaded FROM file_versions") == (
        "loaded", True, skipped, 0)


def test_the_same_content_again_is_a_no_op(ws):
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"Sheet1": [INSPECTION_HEADER, inspection(1)]})
    ws.run()
    again = ws.run()
    assert (again.files_loaded, again.files_unchanged, again.rows_loaded) == (0, 1, 0)
    # The same cells under another name are recognised too.
    write_xlsx(
        ws.path("inspections/2024-03 副本.xlsx"), {"Sheet1": [INSPECTION_HEADER, inspection(1)]}
    )
    copy = ws.run()
    assert (copy.files_loaded, copy.files_unchanged) == (0, 2)
    assert ws.one("SELECT count(*) FROM raw.inspections") == 1


def test_a_corrected_month_replaces_that_month_and_nothing_else(ws):
    write_xlsx(
        ws.path("inspections/2024-05.xlsx"),
        {"Sheet1": [INSPECTION_HEADER, inspection(1, "2024-05-02")]},
    )
    write_xlsx(
        ws.path("inspections/2024-06.xlsx"),
        {"Sheet1": [INSPECTION_HEADER, inspection(1, "2024-06-03", 2)]},
    )
    ws.run()
    write_xlsx(
        ws.path("inspections/2024-06（修订）.xlsx"),
        {
            "Sheet1": [
                INSPECTION_HEADER,
                inspection(1, "2024-06-03", 4),
                inspection(2, "2024-06-04", 1),
            ]
        },
    )
    summary = ws.run()
    assert (summary.files_loaded, summary.files_superseded) == (1, 1)
    assert ws.query("SELECT path, status FROM file_versions ORDER BY version_id") == [
        ("inspections/2024-05.xlsx", "loaded"),
        ("inspections/2024-06.xlsx", "superseded"),
        ("inspections/2024-06（修订）.xlsx", "loaded"),
    ]
    current = ws.query(
        "SELECT v.period, sum(r.inspectors) FROM raw.inspections r JOIN file_versions v "
        "ON v.version_id = r._version_id WHERE v.status = 'loaded' GROUP BY 1 ORDER BY 1"
    )
    assert current == [("2024-05", 2), ("2024-06", 5)]


def test_in_one_run_a_revision_marker_is_later_whatever_the_mtime(ws):
    fixed = write_xlsx(
        ws.path("inspections/2024-06_v2.xlsx"),
        {"Sheet1": [INSPECTION_HEADER, inspection(1, "2024-06-03", 7)]},
    )
    v3 = write_xlsx(
        ws.path("inspections/2024-06_v3.xlsx"),
        {"Sheet1": [INSPECTION_HEADER, inspection(1, "2024-06-03", 8)]},
    )
    plain = write_xlsx(
        ws.path("inspections/2024-06.xlsx"),
        {"Sheet1": [INSPECTION_HEADER, inspection(1, "2024-06-03", 1)]},
    )
    now = time.time()
    os.utime(v3, (now - 300, now - 300))
    os.utime(fixed, (now - 200, now - 200))
    os.utime(plain, (now, now))  # the newest file is the unmarked one
    ws.run()
    assert (
        ws.one("SELECT path FROM file_versions WHERE status = 'loaded'")
        == "inspections/2024-06_v3.xlsx"
    )


def test_register_versions_per_month_all_stay_loaded(ws):
    header = ["案件编号", "立案日期", "当事人", "当事人类型", "案由", "处罚决定日期", "结案日期"]
    write_xlsx(
        ws.path("cases/2024-03.xlsx"),
        {"S": [header, ["A1", "2024-03-01", "某网吧", "单位", "x", None, None]]},
    )
    write_xlsx(
        ws.path("cases/2024-04.xlsx"),
        {
            "S": [
                header,
                ["A1", "2024-03-01", "某网吧", "单位", "x", "2024-04-02", None],
                ["A2", "2024-04-03", "某书店", "单位", "y", None, None],
            ]
        },
    )
    write_xlsx(
        ws.path("cases/2024-05.xlsx"),
        {"S": [header, ["A2", "2024-04-03", "某书店", "单位", "y", "2024-05-06", "2024-05-20"]]},
    )
    ws.run()
    assert ws.query("SELECT period, status FROM file_versions ORDER BY period") == [
        ("2024-03", "loaded"),
        ("2024-04", "loaded"),
        ("2024-05", "loaded"),
    ]
    latest = ws.query("""
        SELECT case_no, arg_max(decided_on, v.period_start) FROM raw.cases r JOIN file_versions v
        ON v.version_id = r._version_id WHERE v.status = 'loaded' GROUP BY 1 ORDER BY 1""")
    assert latest == [("A1", date(2024, 4, 2)), ("A2", date(2024, 5, 6))]


def test_snapshots_of_different_dates_coexist_and_a_same_date_resubmission_replaces(ws):
    header = ["姓名", "执法证号", "证件有效期至", "岗位", "法律职业资格"]
    write_xlsx(
        ws.path("staff/执法人员名录2024-06-30.xlsx"),
        {"S": [header, ["张三", "A1", "2026-01-01", "执法", "否"]]},
    )
    write_xlsx(
        ws.path("执法人员名录/执法人员名录20241231.xlsx"),
        {"S": [header, ["张三", "A1", "2026-01-01", "执法", "否"]]},
    )
    ws.run()
    write_xlsx(
        ws.path("执法人员名录/执法人员名录20241231（更正）.xlsx"),
        {
            "S": [
                header,
                ["张三", "A1", "2026-01-01", "执法", "否"],
                ["李四", "", "", "法制审核", "是"],
            ]
        },
    )
    ws.run()
    assert ws.query("SELECT period, status FROM file_versions ORDER BY version_id") == [
        ("2024-06-30", "loaded"),
        ("2024-12-31", "superseded"),
        ("2024-12-31", "loaded"),
    ]
    assert ws.query(
        "SELECT name, bar_qualified FROM raw.staff r JOIN file_versions v ON v.version_id = r._version_id "
        "WHERE v.period = '2024-12-31' AND v.status = 'loaded' ORDER BY _row"
    ) == [("张某", False), ("李某", True)]


def test_bad_rows_are_quarantined_and_the_rest_loads(ws):
    rows = [
        *TITLE,
        INSPECTION_HEADER,
        inspection(1),
        inspection(2, day="2024-04-31"),
        inspection(3, people="2.5"),
        inspection(4, people=None),
        [5, "2024-03-09", "巡查", "场所5", "网吧", 1, "", "未发现问题"],
    ]
    write_xlsx(ws.path("inspections/2024-03.xlsx"), {"3月": rows})
    summary = ws.run()
    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (5, 1, 4)
    problems = ws.query(
        "SELECT path, sheet, row, header, raw_value, rule FROM problems ORDER BY row"
    )
    assert problems == [
        ("inspections/2024-03.xlsx", "3月", 6, "检查日期", "2024-04-31", "date"),
        ("inspections/2024-03.xlsx", "3月", 7, "出动人次", "2.5", "integer"),
        ("inspections/2024-03.xlsx", "3月", 8, "出动人次", None, "required"),
        ("inspections/2024-03.xlsx", "3月", 9, "检查类型", "巡查", "enum"),
    ]
    enum_message = ws.one("SELECT message FROM problems WHERE rule = 'enum'")
    assert "日常检查" in enum_message and "巡查" in enum_message
    cells = ws.one("SELECT cells FROM quarantined_rows WHERE row = 6")
    assert '"检查日期":"2024-04-31"' in cells and '"检查对象":"场所2"' in cells
    assert ws.one("SELECT rows_read, rows_loaded, rows_quarantined FROM file_versions") == (5, 1, 4)


def test_a_duplicate_key_in_one_file_quarantines_the_later_row(ws):
    header = ["工单编号", "受理日期", "诉求类型", "办理时限"]
    rows = [
        header,
        ["T1", "2024-03-01", "投诉", "2024-03-08"],
        ["T2", "2024-03-02", "咨询", "2024-03-09"],
        ["T1", "2024-03-03", "举报", "2024-03-10"],
    ]
    write_xlsx(ws.path("hotline/2024-03.xlsx"), {"S": rows})
    ws.run()
    assert ws.one("SELECT row, raw_value, rule, message FROM problems") == (
        4,
        "T1",
        "duplicate_key",
        "第4行「工单编号」：与第2行重复（同一文件中工单编号不能重复）（原值：「T1」）",
    )
    assert ws.query("SELECT ticket_no FROM raw.hotline ORDER BY _row") == [("T1",), ("T2",)]


def test_an_interrupted_run_leaves_the_warehouse_as_it_was(ws):
    from flows.load.loader import load_unit
    from flows.run.stages import Steps

    for month in (3, 4, 5):
        write_xlsx(
            ws.path(f"inspections/2024-{month:02d}.xlsx"),
            {"S": [INSPECTION_HEADER, inspection(1, f"2024-{month:02d}-02")]},
        )
    calls = []

    def dies_on_the_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return load_unit(*args, **kwargs)

    with pytest.raises(KeyboardInterrupt):
        ws.run(steps=Steps(load_unit=dies_on_the_third))
    assert ws.one("SELECT count(*) FROM file_versions") == 0
    assert ws.one("SELECT count(*) FROM raw.inspections") == 0
    summary = ws.run()
    assert (summary.files_loaded, summary.rows_loaded) == (3, 3)
