"""Every indicator on a tiny hand-made warehouse, against values computed by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
import pytest
from rawdata import RawWarehouse

from flows.contract.catalog import load_catalog
from flows.errors import TallyError
from flows.transform import indicators

A = "西文旅罚〔2024〕1号"
B = "西文旅罚〔2023〕9号"
C = "西文旅罚〔2024〕5号"
D = "西文旅罚〔2024〕6号"
E = "西文旅罚〔2024〕8号"


def inspection(day, kind, inspectors, **extra):
    return {"inspection_date": day, "inspection_type": kind, "venue_name": "某网吧",
            "venue_type": "网吧", "inspectors": inspectors, "result": "未发现问题", **extra}  # fmt: skip


def case(no, filed, **extra):
    return {"case_no": no, "filed_on": filed, "party": "王某某", "party_type": "个人",
            "violation": "擅自从事经营活动", **extra}  # fmt: skip


def ticket(no, received, due, **extra):
    return {"ticket_no": no, "received_on": received, "category": "投诉", "due_on": due, **extra}


def event(day, theme, posters=0, leaflets=0, banners=0, reach=0):
    return {"event_date": day, "title": f"{theme}宣传", "theme": theme, "mode": "线下",
            "posters": posters, "leaflets": leaflets, "banners": banners, "reach": reach}  # fmt: skip


def session(day, fmt, topic):
    return {"held_on": day, "format": fmt, "topic": topic, "attendees": 20}


def person(name, role, valid_until=None, bar=False):
    return {"name": name, "role": role, "cert_valid_until": valid_until, "bar_qualified": bar}


def d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.fixture(scope="module")
def sample():
    """Build the hand-made warehouse and its models once for this module."""
    w = RawWarehouse()
    ids = {}
    ids["inspections_2024_03"] = w.version("inspections", "2024-03", [
        inspection(d("2024-03-05"), "专项检查", 3, campaign="春节文化市场专项检查"),
        inspection(d("2024-03-06"), "专项检查", 2, campaign="春节文化市场专项检查"),
        inspection(d("2024-03-07"), "专项检查", 2, campaign="两会专项检查"),
        inspection(d("2024-03-08"), "联合抽查", 2, spot_check_task="LH-01",
                   disclosed_on=d("2024-03-20")),
        inspection(d("2024-03-09"), "联合抽查", 2, spot_check_task="LH-01"),
        inspection(d("2024-03-10"), "网上巡查", 1),
        inspection(d("2024-03-11"), "双随机抽查", 2, spot_check_task="SJ-01",
                   disclosed_on=d("2024-03-15")),
        inspection(d("2024-02-28"), "日常检查", 4),
    ])  # fmt: skip
    # An earlier submission of March, replaced by the one above: none of it may count.
    ids["inspections_superseded"] = w.version(
        "inspections", "2024-03", [inspection(d("2024-03-01"), "日常检查", 9)],
        status="superseded",
    )  # fmt: skip
    # Rows dated in another year than their file's period count in their own year.
    ids["inspections_2025_01"] = w.version("inspections", "2025-01", [
        inspection(d("2024-12-31"), "日常检查", 5),
        inspection(d("2025-01-03"), "日常检查", 1),
    ])  # fmt: skip
    ids["inspections_2024_01"] = w.version(
        "inspections", "2024-01", [inspection(d("2023-12-30"), "日常检查", 7)]
    )
    w.version("relic_patrols", "2024-05", [
        {"patrol_date": d("2024-05-0" + str(i)), "site_name": f"文物{i}",
         "protection_level": "县级文物保护单位"} for i in (1, 2, 3)
    ])  # fmt: skip
    w.version("publications", "2024-06", [
        {"action_date": d("2024-06-01"), "venue_name": "书店", "title": "甲", "action": "收缴", "quantity": 10},
        {"action_date": d("2024-06-02"), "venue_name": "书店", "title": "乙", "action": "收缴", "quantity": 5},
        {"action_date": d("2024-06-03"), "venue_name": "书店", "title": "丙", "action": "下架", "quantity": 100},
    ])  # fmt: skip
    w.version("safety_incidents", "2024-06", [])  # a zero report
    # The case register, resubmitted three times with more of each case filled in.
    ids["cases_2024_10"] = w.version("cases", "2024-10", [
        case(A, d("2024-10-08")),
        case(B, d("2023-11-20"), decided_on=d("2023-12-20"), fine_yuan=Decimal("1000")),
        case("西文旅罚[2024]6号", d("2024-03-01"), decided_on=d("2024-03-10")),
    ])  # fmt: skip
    ids["cases_2024_11"] = w.version("cases", "2024-11", [
        case(A, d("2024-10-08"), decided_on=d("2024-11-15"), fine_yuan=Decimal("5000"),
             legal_review=True),
        # filed last year, closed this year; missing from the December register, still kept
        case(B, d("2023-11-20"), decided_on=d("2023-12-20"), fine_yuan=Decimal("1000"),
             closed_on=d("2024-01-10")),
        # filed in December, closed in January
        case(C, d("2024-12-20"), decided_on=d("2024-12-27"), fine_yuan=Decimal("2000"),
             legal_review=True, disclosed_on=d("2025-01-07"), closed_on=d("2025-01-10")),
        # decided on the Friday before National Day: the 7th working day is Saturday 12
        # October, a make-up working day
        case(E, d("2024-09-02"), decided_on=d("2024-09-27"), recorded=True,
             disclosed_on=d("2024-10-12"), closed_on=d("2024-10-20")),
    ])  # fmt: skip
    ids["cases_2024_12"] = w.version("cases", "2024-12", [
        case(A, d("2024-10-08"), decided_on=d("2024-11-15"), fine_yuan=Decimal("8650"),
             confiscated_yuan=Decimal("3000"), legal_review=True, recorded=True,
             disclosed_on=d("2024-11-22"), closed_on=d("2024-11-30"), reconsideration=True),
        case(C, d("2024-12-20"), decided_on=d("2024-12-27"), fine_yuan=Decimal("2000"),
             legal_review=True, recorded=True, disclosed_on=d("2025-01-07"),
             closed_on=d("2025-01-10")),
        case(D, d("2024-03-01"), decided_on=d("2024-03-10"), confiscated_yuan=Decimal("4000"),
             legal_review=False, disclosed_on=d("2024-03-25"), closed_on=d("2024-03-20"),
             litigation=True),
        case(E, d("2024-09-02"), decided_on=d("2024-09-27"), recorded=True,
             disclosed_on=d("2024-10-12"), closed_on=d("2024-10-20")),
    ])  # fmt: skip
    w.version("hotline", "2024-11", [
        ticket("T1", d("2024-11-03"), d("2024-11-10")),
        ticket("T2", d("2024-11-05"), d("2024-11-12"), replied_on=d("2024-11-08"),
               closed_on=d("2024-11-09")),
    ])  # fmt: skip
    w.version("hotline", "2024-12", [
        ticket("T1", d("2024-11-03"), d("2024-11-10"), replied_on=d("2024-11-09"),
               closed_on=d("2025-01-05")),
        ticket("T3", d("2024-12-30"), d("2025-01-06"), replied_on=d("2025-01-07")),
    ])  # fmt: skip
    w.version("publicity_events", "2024-04", [
        event(d("2024-04-23"), "世界读书日", posters=1000, leaflets=500, banners=2, reach=3000),
        event(d("2024-04-26"), "知识产权宣传周", leaflets=200, banners=1, reach=1500),
        event(d("2024-05-10"), "日常普法", posters=300),
    ])  # fmt: skip
    w.version("publicity_events", "2024-04", [event(d("2024-04-01"), "其他", posters=99)],
              status="superseded")  # fmt: skip
    w.version("wechat_posts", "2024-04", [
        {"posted_on": d("2024-04-02"), "title": "普法一"},
        {"posted_on": d("2024-04-09"), "title": "普法二"},
    ])  # fmt: skip
    w.version("study_sessions", "2024-06", [
        session(d("2024-06-03"), "会前学法", "习近平法治思想"),
        session(d("2024-06-10"), "专题讲座", "习近平法治思想"),
        session(d("2024-06-11"), "专题培训", "习近平法治思想"),
        session(d("2024-06-12"), "法治政府建设会议", "法律法规"),
        session(d("2024-06-13"), "警示教育", "警示教育"),
        session(d("2024-06-14"), "会前学法", "党纪学习教育"),
    ])  # fmt: skip
    w.version("staff", "2024", [
        person("张某", "执法", d("2026-01-01")),
        person("李某", "执法", d("2026-01-01")),
        person("赵某", "法制审核", bar=True),
        person("钱某", "法制审核", bar=True),
    ])  # fmt: skip
    ids["staff_2024_12_31"] = w.version("staff", "2024-12-31", [
        person("张某", "执法", d("2026-06-30")),
        person("李某", "执法", d("2024-12-30")),  # expires before the year ends
        person("孙某", "执法"),
        person("赵某", "法制审核", bar=True),
        person("周某", "法制审核"),
    ])  # fmt: skip
    indicators.build(w.con)
    return w, ids


EXPECTED_2024 = {
    "market_campaigns": 2,
    "joint_spot_checks": 1,
    "joint_spot_check_venues": 2,
    "inspector_person_times": 3 + 2 + 2 + 2 + 2 + 1 + 2 + 4 + 5,
    "venue_inspections": 8,
    "online_patrols": 1,
    "spot_check_disclosure_rate": 66.7,  # 2 of the 3 spot checks disclosed
    "relic_patrols": 3,
    "books_confiscated": 15,
    "books_removed": 100,
    "cases_filed": 4,  # A, C, D, E
    "cases_closed": 3,  # A, D, E; C closes in January
    "case_closure_rate": 75.0,
    "reconsiderations": 1,
    "litigations": 1,
    "fines_yuan": 8650 + 2000,  # the December register's amounts win
    "confiscated_yuan": 3000 + 4000,
    "hotline_tickets": 3,
    "hotline_on_time_rate": 66.7,  # T3 replied after its due date
    "hotline_closure_rate": 33.3,  # T1 closed in January, T3 open
    "safety_accidents": 0,
    "publicity_events": 3,
    "posters": 1300,
    "leaflets": 700,
    "banners": 3,
    "wechat_posts": 2,
    "people_reached": 4500,
    "theme_day_events": 2,
    "penalty_disclosures": 4,  # A, C, D, E
    "disclosure_on_time_rate": 75.0,  # D was disclosed after its 7th working day
    "legal_review_rate": 50.0,  # A, C of A, C, D, E
    "recorded_rate": 75.0,  # A, C, E
    "certified_officer_rate": 33.3,  # latest snapshot: 1 of 3 valid on 31 December
    "xi_law_studies": 2,
    "xi_law_trainings": 1,
    "rule_of_law_meetings": 1,
    "warning_education_sessions": 1,
    "qualified_legal_reviewers": 1,
}

EXPECTED_2023 = {
    "inspector_person_times": 7,
    "venue_inspections": 1,
    "spot_check_disclosure_rate": None,  # no spot check: empty, not 0
    "market_campaigns": 0,
    "cases_filed": 1,
    "cases_closed": 0,  # B closed in January 2024
    "case_closure_rate": 0.0,
    "fines_yuan": 1000,
    "hotline_on_time_rate": None,
    "certified_officer_rate": None,  # no roster for 2023
    "qualified_legal_reviewers": None,
}


def test_catalog_and_expectations_cover_the_same_codes():
    assert set(EXPECTED_2024) == set(load_catalog())


def test_every_indicator_of_2024(sample):
    w, _ = sample
    table = indicators.indicator_table(w.con, 2024)
    got = dict(zip(table["code"], table["value"], strict=True))
    assert list(table["code"]) == list(load_catalog())
    for code, expected in EXPECTED_2024.items():
        assert got[code] == pytest.approx(expected), code


def test_indicators_of_the_year_before(sample):
    w, _ = sample
    got = dict(w.con.execute(
        "SELECT code, CAST(value AS DOUBLE) FROM indicators WHERE year = 2023").fetchall())  # fmt: skip
    for code, expected in EXPECTED_2023.items():
        assert got[code] == (None if expected is None else pytest.approx(expected)), code


def test_years_with_data(sample):
    w, _ = sample
    assert indicators.years(w.con) == [2023, 2024, 2025]
    assert indicators.indicator_table(w.con, 2025).filter(
        pl.col("code") == "inspector_person_times")["value"].item() == 1  # fmt: skip


def test_printed_figures(sample):
    w, _ = sample
    table = indicators.indicator_table(w.con, 2024)
    printed = dict(zip(table["code"], table["printed"], strict=True))
    assert printed["fines_yuan"] == "1.065万元"
    assert printed["confiscated_yuan"] == "约0.7万元"
    assert printed["posters"] == "0.1万余张"
    assert printed["people_reached"] == "0.45万人次"  # "约0万余" would say nothing
    assert printed["relic_patrols"] == "3家/次"
    assert printed["case_closure_rate"] == "75%"
    assert printed["spot_check_disclosure_rate"] == "66.7%"
    assert printed["market_campaigns"] == "2次"  # below 10: "0余" would say nothing


def test_empty_rate_prints_nothing(sample):
    w, _ = sample
    assert w.con.execute(
        "SELECT value, printed FROM indicators WHERE year = 2023 AND code = 'hotline_on_time_rate'"
    ).fetchone() == (None, None)


def test_register_row_from_the_latest_period_wins(sample):
    w, ids = sample
    explained = indicators.explain(w.con, "fines_yuan", 2024)
    by_case = {r["record_key"]: r for r in explained.rows.iter_rows(named=True)}
    assert by_case[A]["amount"] == Decimal("8650")
    assert by_case[A]["path"] == w.path(ids["cases_2024_12"])
    # B is missing from the December register: its November row stays.
    filed_2023 = indicators.explain(w.con, "cases_filed", 2023)
    assert filed_2023.rows["record_key"].to_list() == [B]
    assert filed_2023.rows["path"].to_list() == [w.path(ids["cases_2024_11"])]


@pytest.mark.parametrize("code", [c for c, i in load_catalog().items() if i.aggregation != "rate"])
def test_explain_rows_add_up_to_the_value(sample, code):
    w, _ = sample
    explained = indicators.explain(w.con, code, 2024)
    rows, aggregation = explained.rows, explained.indicator.aggregation
    if aggregation == "count":
        rebuilt = rows.height
    elif aggregation == "sum":
        rebuilt = float(sum(rows["amount"], Decimal(0)))
    else:
        rebuilt = rows["distinct_value"].drop_nulls().n_unique()
    assert rebuilt == pytest.approx(explained.value), code


def test_explain_rate_lists_its_denominator(sample):
    w, _ = sample
    explained = indicators.explain(w.con, "disclosure_on_time_rate", 2024)
    assert explained.rows.height == 4
    late = explained.rows.filter(~pl.col("meets_condition"))
    assert late["record_key"].to_list() == [D]
    assert 100 * explained.rows["meets_condition"].sum() / explained.rows.height == 75.0


def test_explain_points_at_spreadsheet_rows(sample):
    w, ids = sample
    explained = indicators.explain(w.con, "online_patrols", 2024)
    row = explained.rows.row(0, named=True)
    assert (row["path"], row["sheet"], row["row"]) == (
        w.path(ids["inspections_2024_03"]),
        "Sheet1",
        4 + 5,
    )
    assert explained.summary()["definition_zh"].startswith("年内检查类型为网上巡查")
    # the row dated 2024-12-31 in the January 2025 file counts in 2024
    person_times = indicators.explain(w.con, "inspector_person_times", 2024).rows
    assert w.path(ids["inspections_2025_01"]) in person_times["path"].to_list()
    assert w.path(ids["inspections_superseded"]) not in person_times["path"].to_list()


def test_explain_unknown_code(sample):
    w, _ = sample
    with pytest.raises(TallyError, match="未知的指标代码"):
        indicators.explain(w.con, "no_such_code", 2024)


def test_series_add_up_to_the_year(sample):
    w, _ = sample
    yearly = dict(w.con.execute(
        "SELECT code, value FROM indicators JOIN seed_indicator_catalog USING (code) "
        "WHERE year = 2024 AND series AND aggregation <> 'distinct'").fetchall())  # fmt: skip
    for table in ("indicator_series_monthly", "indicator_series_quarterly"):
        summed = dict(w.con.execute(
            f"SELECT code, sum(value) FROM {table} WHERE year = 2024 GROUP BY code").fetchall())  # fmt: skip
        for code, value in yearly.items():
            assert summed[code] == value, (table, code)
    march = w.con.execute(
        "SELECT value FROM indicator_series_monthly "
        "WHERE year = 2024 AND month = 3 AND code = 'market_campaigns'").fetchone()[0]  # fmt: skip
    assert march == 2


def test_compare_published(sample):
    w, _ = sample
    compared = indicators.compare_published(w.con, 2024)
    row = compared.filter(pl.col("code") == "cases_filed").row(0, named=True)
    assert (row["published"], row["agrees"]) == ("31件", False)
    assert compared.filter(pl.col("code") == "reconsiderations")["agrees"].item() is False
    assert compared.filter(pl.col("code") == "safety_accidents")["agrees"].item() is True


def test_value_text():
    assert indicators.value_text(None, "%") == ""
    assert indicators.value_text(100.0, "%") == "100.0"
    assert indicators.value_text(Decimal("13650.00"), "元") == "13650"
    assert indicators.value_text(13650.5, "元") == "13650.5"
    assert indicators.value_text(31.0, "件") == "31"


def test_cli_indicators_and_explain(tmp_path):
    from typer.testing import CliRunner

    from flows.cli import app

    path = tmp_path / "tally.duckdb"
    w = RawWarehouse(str(path))
    w.version("cases", "2024-12", [
        case(A, d("2024-10-08"), decided_on=d("2024-11-15"), fine_yuan=Decimal("13650"),
             closed_on=d("2024-11-30")),
        case(C, d("2024-12-20")),
    ])  # fmt: skip
    w.con.close()
    runner = CliRunner()
    result = runner.invoke(app, ["indicators", "--year", "2024", "-w", str(path), "-f", "csv", "--build"])
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(result.stdout.encode(), infer_schema=False)
    rows = {r["code"]: r for r in frame.iter_rows(named=True)}
    assert {"code", "value", "printed"} <= set(frame.columns)
    assert (rows["fines_yuan"]["value"], rows["fines_yuan"]["printed"]) == ("13650", "1.365万元")
    assert (rows["case_closure_rate"]["value"], rows["case_closure_rate"]["printed"]) == (
        "50.0",
        "50%",
    )
    assert rows["hotline_on_time_rate"]["value"] is None  # undefined: empty, not 0
    result = runner.invoke(
        app, ["explain", "cases_filed", "--year", "2024", "-w", str(path), "-f", "csv"]
    )
    assert result.exit_code == 0, result.output
    explained = pl.read_csv(result.stdout.encode())
    assert explained.height == 2 and set(explained["row"]) == {4, 5}
    for fmt in ("md", "json", "table"):
        args = ["indicators", "--year", "2024", "-w", str(path), "-f", fmt, "--no-build"]
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "cases_filed" in result.stdout, fmt
    xlsx = tmp_path / "out.xlsx"
    args = [
        "explain",
        "fines_yuan",
        "--year",
        "2024",
        "-w",
        str(path),
        "-f",
        "xlsx",
        "-o",
        str(xlsx),
    ]
    assert runner.invoke(app, args).exit_code == 0 and xlsx.exists()
    result = runner.invoke(app, ["explain", "nope", "--year", "2024", "-w", str(path)])
    assert result.exit_code == 2  # an unknown indicator is a usage error, naming the closest
