"""A draft citing all 29 printed figures in messy forms: all agree; altered copies flag exactly the altered.

The draft is our own text. Its figures are written as writers type them: spaced with ASCII or
ideographic spaces, in full-width digits, broken over a line, in Chinese numerals, in words.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl
from docx import Document

from flows.contract.catalog import load_catalog
from flows.report.draft_check import check_text, read_draft

VALUES = {
    "market_campaigns": 14, "joint_spot_checks": 5, "joint_spot_check_venues": 11,
    "inspector_person_times": 1432, "venue_inspections": 705, "relic_patrols": 96,
    "books_confiscated": 512, "books_removed": 4870, "cases_filed": 26, "cases_closed": 25,
    "case_closure_rate": 96.2, "reconsiderations": 0, "litigations": 0, "fines_yuan": 21400,
    "confiscated_yuan": 5380, "hotline_tickets": 37, "hotline_on_time_rate": 100.0,
    "hotline_closure_rate": 100.0, "safety_accidents": 0, "publicity_events": 128,
    "posters": 64300, "leaflets": 27000, "banners": 93, "wechat_posts": 187,
    "people_reached": 73800, "penalty_disclosures": 26, "xi_law_studies": 18,
    "xi_law_trainings": 4, "rule_of_law_meetings": 7,
}  # fmt: skip

# {key} is a figure slot; RIGHT fills each with a figure that agrees, written messily.
DRAFT = (
    "一、市场监管\n"
    "围绕节假日开展检查巡查{market_campaigns}次，组织联合抽查{joint_spot_checks}，"
    "联合抽查检查场所{joint_spot_check_venues}家次。全年\n出动执法人员{inspector_person_times}，"
    "检查经营单位{venue_inspections}家次，对文物保护单位开展巡查{relic_patrols}。\n"
    "收缴违规书籍{books_confiscated}本，下架{books_removed}本；立案{cases_filed}件，"
    "办结{cases_closed}件，办结率{case_closure_rate}。全年未发生一起行政复议、行政诉讼案件。\n"
    "共处罚款{fines_yuan}，没收违法所得{confiscated_yuan}。12345平台受理工单{hotline_tickets}件，"
    "均按时回复，工单办结率{hotline_closure_rate}，全年安全生产零事故。\n"
    "二、普法宣传\n"
    "举办宣传活动{publicity_events}，发放宣传海报{posters}，宣传折页{leaflets}，悬挂横幅{banners}，"
    "微信公众号推送信息{wechat_posts}，覆盖群众{people_reached}。\n"
    "三、执法公示\n"
    "在平台公示行政处罚信息{penalty_disclosures}。\n"
    "四、学法\n"
    "学习习近平法治思想{xi_law_studies}，开展{xi_law_trainings}习近平法治思想专题培训，"
    "召开法治政府建设相关会议{rule_of_law_meetings}。\n"
)
RIGHT = {
    "market_campaigns": "10 余", "joint_spot_checks": "五次", "joint_spot_check_venues": "１１",
    "inspector_person_times": "1432 人次", "venue_inspections": "700\u3000余",
    "relic_patrols": "96家/次", "books_confiscated": "５１２", "books_removed": "4,870",
    "cases_filed": "26", "cases_closed": "25", "case_closure_rate": "96.2 %",
    "fines_yuan": "2.14 万元", "confiscated_yuan": "约 0.5 万元", "hotline_tickets": "37",
    "hotline_closure_rate": "100%", "publicity_events": "120 余场", "posters": "6.4\n万余张",
    "leaflets": "2.7 万份", "banners": "90 余条", "wechat_posts": "180多条",
    "people_reached": "约 7 万余人次", "penalty_disclosures": "26 个", "xi_law_studies": "十余次",
    "xi_law_trainings": "四次", "rule_of_law_meetings": "7\n场",
}  # fmt: skip
# Altered copies: the same messy forms, each with a wrong figure.
ALTERED = {
    "joint_spot_check_venues": "１２",  # full-width
    "venue_inspections": "710\u3000余",  # ideographic space
    "posters": "6.5\n万余张",  # broken over a line
    "people_reached": "约 8 万余人次",  # spaced
    "xi_law_trainings": "三次",  # Chinese numeral
    "rule_of_law_meetings": "6\n场",  # figure and unit on two lines
}  # fmt: skip
IN_WORDS = ["reconsiderations", "litigations", "hotline_on_time_rate", "safety_accidents"]


def figures() -> pl.DataFrame:
    catalog = load_catalog()
    return pl.DataFrame({
        "code": list(VALUES), "name_zh": [catalog[c].name_zh for c in VALUES],
        "value": [float(v) for v in VALUES.values()],
        "printed": [catalog[c].render(Decimal(str(v))) for c, v in VALUES.items()],
    })  # fmt: skip


def test_all_29_figures_in_messy_forms_are_checked_and_agree():
    result = check_text(DRAFT.format(**RIGHT), figures())
    assert sorted(c.code for c in result.matched) == sorted([*RIGHT, *IN_WORDS])
    assert len(result.matched) == 29
    assert result.ok, [(c.code, c.cited, c.computed) for c in result.disagreements]
    assert result.unmatched == []


def test_altered_copies_flag_exactly_the_altered_figures():
    result = check_text(DRAFT.format(**{**RIGHT, **ALTERED}), figures())
    assert len(result.matched) == 29 and result.unmatched == []
    assert [(c.code, c.cited) for c in result.disagreements] == [
        ("joint_spot_check_venues", "12家次"),
        ("venue_inspections", "710 余家次"),
        ("posters", "6.5 万余张"),
        ("people_reached", "约 8 万余人次"),
        ("xi_law_trainings", "三次"),
        ("rule_of_law_meetings", "6 场"),
    ]


def test_the_same_in_a_docx_with_runs_split_inside_figures(tmp_path):
    def write(text: str, path):
        doc = Document()
        for line in text.split("\n"):
            p = doc.add_paragraph()
            for i in range(0, len(line), 3):  # a run every 3 characters: figures cut anywhere
                p.add_run(line[i : i + 3]).bold = (i // 3) % 2 == 0
        doc.save(path)

    write(DRAFT.format(**RIGHT), tmp_path / "right.docx")
    right = check_text(read_draft(tmp_path / "right.docx"), figures())
    assert len(right.matched) == 29 and right.ok and right.unmatched == []
    altered = {"books_removed": "4,970", "fines_yuan": "2.15 万元"}
    write(DRAFT.format(**{**RIGHT, **altered}), tmp_path / "altered.docx")
    wrong = check_text(read_draft(tmp_path / "altered.docx"), figures())
    assert [(c.code, c.cited) for c in wrong.disagreements] == [
        ("books_removed", "4970本"),
        ("fines_yuan", "2.15 万元"),
    ]
    assert len(wrong.matched) == 29 and wrong.unmatched == []
