"""check-draft finds a figure in every form a writer types it, and counts what is not a figure.

The drafts here are our own sentences. Each test asserts the exact lists: the figures matched
(with the number read and whether it agrees), the ones flagged, and the numbers left unmatched.
"""

from __future__ import annotations

import re
from decimal import Decimal

import polars as pl
from docx import Document
from hypothesis import given, settings
from hypothesis import strategies as st
from reportdata import build_warehouse
from typer.testing import CliRunner

from flows.cli import app
from flows.contract.catalog import load_catalog
from flows.report.draft_check import check_text, find_citations, read_draft
from flows.report.draft_text import prepare_draft

VALUES = {
    "inspector_person_times": 2315, "venue_inspections": 402, "posters": 51800,
    "leaflets": 12000, "people_reached": 46300, "publicity_events": 64, "banners": 37,
    "xi_law_trainings": 3, "xi_law_studies": 12, "rule_of_law_meetings": 5, "cases_filed": 9,
    "fines_yuan": 8200, "confiscated_yuan": 2960, "books_removed": 250, "wechat_posts": 95,
}  # fmt: skip


def figures(values: dict[str, float]) -> pl.DataFrame:
    catalog = load_catalog()
    return pl.DataFrame({
        "code": list(values), "name_zh": [catalog[c].name_zh for c in values],
        "value": [float(v) for v in values.values()],
        "printed": [catalog[c].render(Decimal(str(v))) for c, v in values.items()],
    })  # fmt: skip


def summary(text: str, values: dict | None = None):
    result = check_text(text, figures(values or VALUES))
    matched = [(c.code, c.cited, c.agrees) for c in result.matched]
    unmatched = [c.cited for c in result.unmatched]
    return matched, [c.code for c in result.disagreements], unmatched


def test_any_spacing_between_number_qualifiers_and_unit():
    text = (
        "本年度执法队员出动 2315 余人次，"  # ASCII spaces
        "共检查经营单位\u3000402\u3000余家次；"  # ideographic spaces
        "印发宣传海报约 5 万余张，"  # spaces inside 约…万余
        "发放宣传折页1.2万份。"  # none
    )
    matched, flagged, unmatched = summary(text)
    assert matched == [
        ("inspector_person_times", "2315 余人次", True),
        ("venue_inspections", "402 余家次", True),
        ("posters", "约 5 万余张", True),
        ("leaflets", "1.2万份", True),
    ]
    assert flagged == [] and unmatched == []


def test_full_width_digits_and_the_qualifier_duo():
    text = "执法队员出动２３１５人次。举办普法活动６０多场，张挂横幅30余条。"
    matched, flagged, unmatched = summary(text)
    assert matched == [
        ("inspector_person_times", "2315人次", True),
        ("publicity_events", "60多场", True),  # 多 reads as 余: 60 … 69
        ("banners", "30余条", True),
    ]
    assert flagged == [] and unmatched == []


def test_a_line_break_inside_a_phrase_or_a_figure():
    text = (
        "全县组织召开法治政\n\n府建设相关会议 5\n场，张挂横幅\n40 余条。\n"
        "印发宣传海报约\u30006\n万余张。\n"
    )
    matched, flagged, unmatched = summary(text)
    assert matched == [
        ("rule_of_law_meetings", "5 场", True),
        ("banners", "40 余条", False),  # 40余 is 40 … 49; the value is 37
        ("posters", "约 6 万余张", False),  # 55,000 … 69,999; the value is 51,800
    ]
    assert flagged == ["banners", "posters"] and unmatched == []
    lines = [c.line for c in find_citations(text)[0]]
    assert lines == [3, 5, 6]  # each figure on the line its number stands on


def test_a_number_wrapped_over_a_line_is_one_number():
    # Text copied from a PDF wraps anywhere, inside a number too; apart by a space it is two.
    matched, flagged, unmatched = summary("执法队员出动23\n15余人次，检查经营单位4\n02余家次。")
    assert matched == [
        ("inspector_person_times", "23 15余人次", True),
        ("venue_inspections", "4 02余家次", True),
    ]
    assert flagged == [] and unmatched == []
    assert summary("2024 2315余人次")[2] == ["2315余人次"]


def test_a_sentence_end_or_a_heading_is_not_joined_to_the_next_line():
    draft = prepare_draft("开展检查。\n一、普法宣传\n（一）线上\n发放折页\n1.2万份\n")
    assert draft.text == "开展检查。\n一、普法宣传\n(一)线上\n发放折页1.2万份\n"
    items = prepare_draft("主要做法\n1.开展检查\n（2）发放折页\n2) 悬挂横幅\n")
    assert items.text == "主要做法\n1.开展检查\n(2)发放折页\n2)悬挂横幅\n"


def test_chinese_numerals_where_a_report_uses_them():
    text = (
        "组织召开法治政府建设相关会议五场，开展了三次习近平法治思想专题培训，"
        "学习习近平法治思想十余次。另举办培训班两期，百余人参加，千家万户受益。"
    )
    matched, flagged, unmatched = summary(text)
    assert matched == [
        ("rule_of_law_meetings", "五场", True),
        ("xi_law_trainings", "三次", True),
        ("xi_law_studies", "十余次", True),
    ]
    assert flagged == [] and unmatched == ["两期", "百余人"]
    numbers = {c.code: c.number for c in find_citations(text)[0]}
    assert numbers["xi_law_studies"] == Decimal(10)


def test_what_is_not_a_statistic():
    text = (
        "2024 年 3 月 15 日，依据《条例》第三十二条和第 12 条，以〔2024〕7号文件部署，"
        "在“4·23”读书日开展第三次集中行动。全面落实三项制度，增强“四个意识”，"
        "做到“两个维护”，每一次检查都留痕，打造一批精品线路，12345 热线全天受理。"
        "处罚决定在 7 个工作日内公示，投诉在24小时内回复，整改须在三个月内完成。"
        "二是持续推进。"
    )
    matched, flagged, unmatched = summary(text)
    assert matched == [] and flagged == [] and unmatched == []


def test_each_number_with_a_unit_is_matched_or_listed():
    text = "下架违规出版物250本，另有12家单位参加培训，约谈负责人3名。执法队员出动2300人次。"
    result = check_text(text, figures(VALUES))
    assert [(c.code, c.cited, c.agrees) for c in result.matched] == [
        ("books_removed", "250本", True),
        ("inspector_person_times", "2300人次", False),
    ]
    assert [(c.cited, c.line, c.context) for c in result.unmatched] == [
        ("12家", 1, "下架违规出版物250本,另有12家单位参加培训,约谈负责人3名。"),
        ("3名", 1, "下架违规出版物250本,另有12家单位参加培训,约谈负责人3名。"),
    ]


def write_docx(path, paragraphs, table=None):
    """Write a .docx whose paragraphs are lists of runs (each run a separate w:r)."""
    doc = Document()
    for runs in paragraphs:
        p = doc.add_paragraph()
        for i, run in enumerate(runs):
            p.add_run(run).italic = i % 2 == 1  # alternate formatting keeps the runs apart
    if table:
        t = doc.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                t.rows[r].cells[c].text = value
    doc.save(path)


def test_a_docx_whose_runs_split_figures_anywhere(tmp_path):
    path = tmp_path / "draft.docx"
    write_docx(
        path,
        [
            ["执法队员出动", "23", "1", "5余", "人次，检查经营单位4", "12余家", "次。"],
            ["印发宣传海报约", "5", "万余", "张。"],
            ["立案", "九", "件。"],
        ],
        table=[["指标", "数值"], ["发放宣传折页", "1.3 万份"], ["悬挂横幅", "30余条"]],
    )
    assert len(Document(str(path)).paragraphs[0].runs) == 7
    matched, flagged, unmatched = summary(read_draft(path))
    assert matched == [
        ("inspector_person_times", "2315余人次", True),
        ("venue_inspections", "412余家次", False),
        ("posters", "约5万余张", True),
        ("cases_filed", "九件", True),
        ("leaflets", "1.3 万份", False),
        ("banners", "30余条", True),
    ]
    assert flagged == ["venue_inspections", "leaflets"] and unmatched == []
    assert [c.line for c in find_citations(read_draft(path))[0]] == [1, 1, 2, 3, 5, 6]


def test_markdown_and_text_drafts_read_alike(tmp_path):
    body = (
        "## 普法宣传\n\n- 发放宣传折页 1.2 万份\n- 张挂横幅 3O 条\n- 推送微信公众号信息\n  95 条\n"
    )
    (tmp_path / "d.md").write_text(body, encoding="utf-8")
    matched, flagged, unmatched = summary(read_draft(tmp_path / "d.md"))
    assert matched == [("leaflets", "1.2 万份", True), ("wechat_posts", "95 条", True)]
    assert flagged == [] and unmatched == []  # 3O (a letter O) is not a number


def test_strict_exits_1_when_a_number_is_unmatched(tmp_path):
    warehouse = build_warehouse(tmp_path)
    draft = tmp_path / "draft.txt"
    draft.write_text("执法队员出动 21 余人次。\n另有 6 家单位参加。\n", encoding="utf-8")
    runner = CliRunner()
    args = ["check-draft", str(draft), "--year", "2024", "--warehouse", str(warehouse)]
    plain = runner.invoke(app, args)
    assert plain.exit_code == 0, plain.output
    assert "共核对 1 处，不一致 0 处，未对应 1 处" in plain.stdout
    assert "第2行 6 家" in plain.stdout
    strict = runner.invoke(app, [*args, "--strict"])
    assert strict.exit_code == 1


def test_wan_after_the_qualifier():
    # 4万余 and 4余万 both read 40,000 and a little over; 十余万 is 100,000 and over.
    text = "覆盖群众4余万人次。印发宣传海报五万余张。发放宣传折页十余万份。"
    result = check_text(text, figures(VALUES))
    assert [(c.code, c.cited, c.number, c.qualifier, c.agrees) for c in result.matched] == [
        ("people_reached", "4余万人次", Decimal(40000), "余", True),
        ("posters", "五万余张", Decimal(50000), "余", True),
        ("leaflets", "十余万份", Decimal(100000), "余", False),
    ]


SPACES = st.sampled_from(["", " ", "  ", "\u3000", "\t", "\n", " \n\n", "\u00a0"])
FULL_WIDTH = str.maketrans("0123456789.%", "０１２３４５６７８９．％")


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(["inspector_person_times", "posters", "people_reached", "fines_yuan",
                     "confiscated_yuan", "publicity_events", "leaflets", "banners"]),
    st.integers(min_value=1, max_value=900_000),
    st.lists(SPACES, min_size=6, max_size=6),
    st.booleans(),
)  # fmt: skip
def test_a_rendered_figure_agrees_however_it_is_spaced(code, value, gaps, full_width):
    indicator = load_catalog()[code]
    printed = indicator.render(Decimal(value))
    # Cut the figure between its parts (约 | number | 万 | 余 | unit), never inside the number.
    parts = [p for p in re.split(r"([0-9.]+|万|余|约)", printed) if p]
    written = "".join(p + gaps[i % len(gaps)] for i, p in enumerate(parts)).rstrip()
    if full_width:
        written = written.translate(FULL_WIDTH)
    lead = {"inspector_person_times": "执法队员出动", "posters": "印发宣传海报",
            "people_reached": "覆盖群众", "fines_yuan": "罚款", "confiscated_yuan": "没收违法所得",
            "publicity_events": "开展宣传活动", "leaflets": "发放宣传折页",
            "banners": "悬挂横幅"}[code]  # fmt: skip
    result = check_text(f"全年{lead}{gaps[0]}{written}。", figures({code: value}))
    assert [c.code for c in result.matched] == [code], (written, result.unmatched)
    assert result.ok and result.unmatched == [], written
