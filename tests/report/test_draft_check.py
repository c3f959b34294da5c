"""check-draft: every figure of a draft is found, compared under the agreement rules, and listed."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest
from docx import Document
from hypothesis import given, settings
from hypothesis import strategies as st
from reportdata import build_warehouse
from typer.testing import CliRunner

from flows.cli import app
from flows.contract.catalog import load_catalog
from flows.errors import TallyError
from flows.report.draft_check import (
    check_text,
    compile_phrase,
    find_citations,
    read_draft,
    read_phrases,
)

# Values a warehouse could hold for 2024, each agreeing with the figure the report printed.
VALUES_2024 = {
    "market_campaigns": 12, "joint_spot_checks": 4, "joint_spot_check_venues": 8,
    "inspector_person_times": 1776, "venue_inspections": 888, "relic_patrols": 109,
    "books_confiscated": 684, "books_removed": 6032, "cases_filed": 31, "cases_closed": 31,
    "case_closure_rate": 100.0, "reconsiderations": 0, "litigations": 0, "fines_yuan": 13650,
    "confiscated_yuan": 7120, "hotline_tickets": 48, "hotline_on_time_rate": 100.0,
    "hotline_closure_rate": 100.0, "safety_accidents": 0, "publicity_events": 153,
    "posters": 72345, "leaflets": 31000, "banners": 114, "wechat_posts": 226,
    "people_reached": 81200, "penalty_disclosures": 31, "xi_law_studies": 21,
    "xi_law_trainings": 3, "rule_of_law_meetings": 6,
}  # fmt: skip

# A draft in our own words, citing every printed 2024 figure once (line by line).
DRAFT = """\
一、文化市场监管
全年共出动执法人员{inspector_person_times}人次，检查各类经营场所{venue_inspections}家次。
围绕节假日等重要节点开展检查巡查{market_campaigns}次。
开展联合抽查{joint_spot_checks}次，联合抽查检查场所{joint_spot_check_venues}家次。
对辖区不可移动文物开展巡查{relic_patrols}。
收缴违法违规书籍{books_confiscated}本，下架书籍{books_removed}本。
全年行政立案{cases_filed}件，办结{cases_closed}件，办结率{case_closure_rate}。
全年未发生一起行政复议、行政诉讼案件。
共处罚款{fines_yuan}，没收违法所得{confiscated_yuan}。
受理12345平台办件{hotline_tickets}件，均按时回复，12345工单办结率{hotline_closure_rate}。
全年文化旅游领域零事故。
二、普法宣传
开展线上线下宣传活动{publicity_events}场，发放宣传海报{posters}张，宣传折页{leaflets}份；
悬挂横幅{banners}条，微信公众号发送信息{wechat_posts}条，覆盖群众{people_reached}人次。
公开公示行政处罚信息{penalty_disclosures}个。
三、学法
组织学习习近平法治思想{xi_law_studies}次，举办习近平法治思想专题培训{xi_law_trainings}次，召开法治政府建设相关会议{rule_of_law_meetings}场。
"""
# The figures as the 2024 report printed them (without units where the draft writes the unit).
PRINTED = {
    "inspector_person_times": "1776余", "venue_inspections": "888余", "market_campaigns": "10余",
    "joint_spot_checks": "4", "joint_spot_check_venues": "8", "relic_patrols": "109家/次",
    "books_confiscated": "684", "books_removed": "6032", "cases_filed": "31", "cases_closed": "31",
    "case_closure_rate": "100%", "fines_yuan": "1.365万元", "confiscated_yuan": "约0.7万元",
    "hotline_tickets": "48", "hotline_closure_rate": "100%", "publicity_events": "150余",
    "posters": "7.2万余", "leaflets": "3.1万", "banners": "110余", "wechat_posts": "220余",
    "people_reached": "约8万余", "penalty_disclosures": "31", "xi_law_studies": "21",
    "xi_law_trainings": "3", "rule_of_law_meetings": "6",
}  # fmt: skip
# Indicators the draft states in words rather than digits.
IN_WORDS = {"reconsiderations", "litigations", "hotline_on_time_rate", "safety_accidents"}
# Deliberate mistakes: each one must be flagged, every other figure must still agree.
WRONG = {
    "inspector_person_times": "1777余",  # 余 floors: 1776 is not "1777 and a little"
    "venue_inspections": "890余",  # 890余 means 890 … 899 (880余 would hold 888)
    "market_campaigns": "20余",
    "relic_patrols": "110家/次",
    "case_closure_rate": "96.8%",
    "fines_yuan": "1.36万元",  # exact: 13,600 ≠ 13,650
    "confiscated_yuan": "约0.8万元",  # 7,500 … 8,499
    "posters": "7.3万余",
    "leaflets": "3万",
    "people_reached": "约9万余",  # 85,000 … 99,999
    "hotline_closure_rate": "95%",
    "xi_law_trainings": "4",
}


def figures(values: dict[str, float]) -> pl.DataFrame:
    catalog = load_catalog()
    return pl.DataFrame({
        "code": list(values), "name_zh": [catalog[c].name_zh for c in values],
        "value": [float(v) for v in values.values()],
        "printed": [catalog[c].render(Decimal(str(v))) for c, v in values.items()],
    })  # fmt: skip


def draft(printed: dict[str, str]) -> str:
    return DRAFT.format(**printed)


def test_every_figure_of_a_right_draft_is_found_and_agrees():
    result = check_text(draft(PRINTED), figures(VALUES_2024))
    found = [c.code for c in result.matched]
    assert sorted(found) == sorted([*PRINTED, *IN_WORDS])  # each once, none missed
    assert result.ok, [(c.code, c.cited, c.computed) for c in result.disagreements]
    assert result.unmatched == []
    cited = {c.code: c.cited for c in result.matched}
    assert cited["people_reached"] == "约8万余人次" and cited["fines_yuan"] == "1.365万元"
    assert cited["safety_accidents"] == "零事故" and cited["hotline_on_time_rate"] == "均按时回复"


def test_each_wrong_figure_is_flagged_and_no_other():
    result = check_text(draft({**PRINTED, **WRONG}), figures(VALUES_2024))
    assert sorted(c.code for c in result.disagreements) == sorted(WRONG)
    assert len(result.matched) == len(PRINTED) + len(IN_WORDS)
    bad = {c.code: c for c in result.disagreements}
    assert (bad["fines_yuan"].cited, bad["fines_yuan"].computed) == ("1.36万元", "1.365万元")
    assert bad["people_reached"].line == 14


def test_a_figure_in_words_that_no_longer_holds_is_flagged():
    values = {**VALUES_2024, "safety_accidents": 1, "hotline_on_time_rate": 97.9}
    result = check_text(draft(PRINTED), figures(values))
    assert sorted(c.code for c in result.disagreements) == [
        "hotline_on_time_rate",
        "safety_accidents",
    ]


def test_figures_no_indicator_claims_are_listed():
    text = "开展专项整治行动5项，印发文件12份通知。2024年3月召开会议。"
    result = check_text(text, figures(VALUES_2024))
    assert [c.cited for c in result.unmatched] == ["5项", "12份"]
    assert result.matched == [] and result.ok


def test_the_most_specific_phrase_wins():
    matched, _ = find_citations(
        "12345平台受理工单48件，办结率100%。行政立案31件，办结31件，办结率100%。"
    )
    assert [c.code for c in matched] == [
        "hotline_tickets",
        "hotline_closure_rate",
        "cases_filed",
        "cases_closed",
        "case_closure_rate",
    ]


def test_full_width_digits_and_thousands_separators():
    matched, _ = find_citations("全年出动执法人员１，７７６余人次。发放宣传海报72,345张。")
    assert [(c.code, c.number, c.qualifier) for c in matched] == [
        ("inspector_person_times", Decimal(1776), "余"),
        ("posters", Decimal(72345), ""),
    ]


def test_an_undefined_value_disagrees():
    values = {**VALUES_2024, "case_closure_rate": None}
    frame = figures({k: v for k, v in values.items() if v is not None})
    frame = pl.concat([frame, pl.DataFrame({"code": ["case_closure_rate"], "name_zh": ["办结率"],
                                            "value": [None], "printed": [None]},
                                           schema=frame.schema)])  # fmt: skip
    result = check_text("办结率100%。", frame)
    assert [(c.code, c.agrees) for c in result.matched] == [("case_closure_rate", False)]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["inspector_person_times", "posters", "people_reached", "confiscated_yuan",
                        "fines_yuan", "publicity_events", "banners"]),
       st.integers(min_value=1, max_value=500_000))  # fmt: skip
def test_a_figure_rendered_by_the_catalog_always_agrees_with_its_value(code, value):
    indicator = load_catalog()[code]
    phrase = {"inspector_person_times": "出动执法人员{}", "posters": "发放宣传海报{}",
              "people_reached": "覆盖群众{}", "confiscated_yuan": "没收违法所得{}",
              "fines_yuan": "罚款{}", "publicity_events": "开展宣传活动{}", "banners": "悬挂横幅{}"}[code]  # fmt: skip
    text = phrase.format(indicator.render(Decimal(value))) + "。"
    result = check_text(text, figures({code: value}))
    assert [c.code for c in result.matched] == [code] and result.ok, text
    far = figures({code: value * 3 + 10_000})
    assert not check_text(text, far).ok


def test_phrases_file_is_valid_and_covers_the_catalog():
    phrases, wordings = read_phrases()
    assert {p.code for p in phrases} | {w.code for w in wordings} == set(load_catalog())
    with pytest.raises(TallyError, match="须恰好含一个"):
        compile_phrase("banners", "横幅", 0)


def test_drafts_in_docx_and_gbk_text(tmp_path):
    doc = Document()
    doc.add_paragraph("全年共出动执法人员1776余人次。")
    table = doc.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "发放宣传海报"
    table.rows[0].cells[1].text = "7.2万余张"
    doc.save(tmp_path / "d.docx")
    text = read_draft(tmp_path / "d.docx")
    assert [c.code for c in find_citations(text)[0]] == ["inspector_person_times", "posters"]
    (tmp_path / "d.txt").write_bytes("悬挂横幅110余条。".encode("gbk"))
    assert [c.code for c in find_citations(read_draft(tmp_path / "d.txt"))[0]] == ["banners"]
    (tmp_path / "d.pdf").write_bytes(b"%PDF")
    with pytest.raises(TallyError, match="不支持"):
        read_draft(tmp_path / "d.pdf")


def test_cli_exit_codes_on_a_real_warehouse(tmp_path):
    warehouse = build_warehouse(tmp_path)
    right = tmp_path / "right.md"
    right.write_text(
        "全年出动执法人员21余人次，行政立案2件，办结率50%，罚款0.35万元。", encoding="utf-8"
    )
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("全年出动执法人员30余人次，行政立案2件。另开展活动7项。", encoding="utf-8")
    runner = CliRunner()
    ok = runner.invoke(
        app, ["check-draft", str(right), "--year", "2024", "--warehouse", str(warehouse)]
    )
    assert ok.exit_code == 0, ok.output
    assert "一致" in ok.stdout and "不一致 0 处" in ok.stdout
    bad = runner.invoke(
        app, ["check-draft", str(wrong), "--year", "2024", "--warehouse", str(warehouse)]
    )
    assert bad.exit_code == 1
    assert "不一致" in bad.stdout and "21余人次" in bad.stdout and "7项" in bad.stdout
    missing = runner.invoke(app, ["check-draft", str(tmp_path / "none.txt"), "--year", "2024",
                                  "--warehouse", str(warehouse)])  # fmt: skip
    assert missing.exit_code == 2
