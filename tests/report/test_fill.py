"""tally fill: a Word draft with placeholders comes back with the year's figures as printed."""

from __future__ import annotations

import csv
from itertools import pairwise
from pathlib import Path

import duckdb
import polars as pl
import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from reportdata import EXPECTED_2024, build_warehouse
from typer.testing import CliRunner

import flows
from flows.cli import app
from flows.contract.catalog import load_catalog
from flows.errors import TallyError
from flows.report.fill import fill_draft
from flows.transform.indicators import indicator_table

PUBLISHED = Path(flows.__file__).parent / "contract" / "data" / "published-2024.csv"
# reportdata's cases carry no 复议 / 诉讼 column: none of them went to either; both of its
# publicity events fall on theme days (4·23, 4·26).
VALUES = {**EXPECTED_2024, "reconsiderations": 0, "litigations": 0, "theme_day_events": 2}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return build_warehouse(tmp_path_factory.mktemp("fill"))


@pytest.fixture(scope="module")
def figures(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return indicator_table(con, 2024)


def printed_codes() -> list[str]:
    with PUBLISHED.open(encoding="utf-8") as f:
        return [row["code"] for row in csv.DictReader(f)]


def add_split(paragraph, text: str, cuts: list[int], bold_from: int | None = None) -> None:
    """Add text as several runs cut at the given offsets (Word splits a typed word like this)."""
    bounds = [0, *cuts, len(text)]
    for i, (a, b) in enumerate(pairwise(bounds)):
        run = paragraph.add_run(text[a:b])
        run.bold = bold_from is not None and i >= bold_from


def test_a_draft_with_every_printed_figure_comes_back_as_printed(tmp_path, figures):
    catalog = load_catalog()
    codes = printed_codes()
    assert len(codes) == 29
    doc = Document()
    for n, code in enumerate(codes):
        indicator = catalog[code]
        name = indicator.name_zh if n % 2 else code  # by Chinese name or by code, alternately
        p = doc.add_paragraph(f"{indicator.name_zh}：")
        placeholder = "{{" + name + "}}"
        # Every third placeholder split over three runs, the braces themselves cut apart.
        add_split(p, placeholder + "。", [1, len(placeholder) // 2] if n % 3 == 0 else [])
    doc.save(tmp_path / "draft.docx")

    result = fill_draft(tmp_path / "draft.docx", figures, tmp_path / "out.docx")
    assert result.ok, result.unresolved
    assert [p.code for p in result.placeholders] == codes
    texts = [p.text for p in Document(str(tmp_path / "out.docx")).paragraphs]
    expected = [f"{catalog[c].name_zh}：{catalog[c].render(VALUES[c])}。" for c in codes]
    assert texts == expected
    # A few figures spelt out, so that the test does not only agree with itself.
    assert "出动检查人次：21余人次。" in texts and "行政处罚罚款：0.35万元。" in texts
    assert "办结率：50%。" in texts and "覆盖群众：约2万余人次。" in texts


def test_forms_formatting_and_unresolved_placeholders(tmp_path, figures):
    doc = Document()
    p = doc.add_paragraph("罚款")
    add_split(p, "{{ 行政处罚罚款 | exact }}", [3, 9], bold_from=0)
    p.add_run("，即{{fines_yuan|number}}元（{{fines_yuan|value}}），出动{{出动检查人次|如印}}。")
    doc.add_paragraph(
        "待补：{{出动检査人次}}、{{posters|rounded}}、{{spot_check_disclosure_rate}}。"
    )
    doc.save(tmp_path / "draft.docx")
    # A rate whose denominator is 0 has no value (as when no 抽查 was made).
    undefined = pl.col("code") == "spot_check_disclosure_rate"
    figures = figures.with_columns(
        pl.when(undefined).then(None).otherwise(pl.col("value")).alias("value")
    )

    result = fill_draft(tmp_path / "draft.docx", figures, tmp_path / "out.docx")
    out = Document(str(tmp_path / "out.docx"))
    assert out.paragraphs[0].text == "罚款3500元，即0.35万元（3500），出动21余人次。"
    # The figure keeps the formatting of the run its placeholder starts in.
    assert [(r.text, r.bold) for r in out.paragraphs[0].runs][:2] == [
        ("罚款", None),
        ("3500元", True),
    ]
    # Left in place as written, for the writer to see and fix.
    assert out.paragraphs[1].text == (
        "待补：{{出动检査人次}}、{{posters|rounded}}、{{spot_check_disclosure_rate}}。"
    )
    assert [(p.written, p.code) for p in result.unresolved] == [
        ("出动检査人次", None),  # 査, not 查: a typo
        ("posters|rounded", "posters"),
        ("spot_check_disclosure_rate", "spot_check_disclosure_rate"),
    ]
    assert "no value" in result.unresolved[2].reason and not result.ok


def test_a_table_placeholder_inserts_the_sections_table(tmp_path, figures):
    catalog = load_catalog()
    doc = Document()
    doc.add_paragraph("（三）普法宣传")
    doc.add_paragraph("{{表：一（三）}}")
    doc.add_paragraph("以上数据截至年底。")
    doc.save(tmp_path / "draft.docx")

    fill_draft(tmp_path / "draft.docx", figures, tmp_path / "out.docx")
    out = Document(str(tmp_path / "out.docx"))
    blocks = list(out.iter_inner_content())
    assert [type(b).__name__ for b in blocks] == ["Paragraph", "Table", "Paragraph"]
    table = blocks[1]
    rows = [[c.text for c in r.cells] for r in table.rows]
    section = [c for c, i in catalog.items() if i.section == "一(三)"]
    assert rows[0] == ["指标", "报告写法", "数值", "单位"]
    assert rows[1:] == [
        [catalog[c].name_zh, catalog[c].render(VALUES.get(c, 0)), str(VALUES.get(c, 0)),
         catalog[c].print_unit]
        for c in section
    ]  # fmt: skip
    assert rows[2] == ["发放宣传海报", "0.1万余张", "1200", "张"]
    assert table.rows[1].cells[1].paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT


def test_cli_writes_the_draft_and_exits_1_on_an_unresolved_placeholder(tmp_path, warehouse):
    doc = Document()
    doc.add_paragraph("全年出动{{inspector_person_times}}，{{不存在的指标}}。")
    doc.save(tmp_path / "draft.docx")
    runner = CliRunner()
    args = ["fill", str(tmp_path / "draft.docx"), "--year", "2024", "--output",
            str(tmp_path / "out.docx"), "--warehouse", str(warehouse)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "共 2 处占位符，已填写 1 处，未填写 1 处" in result.stdout
    assert Document(str(tmp_path / "out.docx")).paragraphs[0].text == (
        "全年出动21余人次，{{不存在的指标}}。"
    )
    onto_itself = [*args[:5], str(tmp_path / "draft.docx"), *args[6:]]
    same = runner.invoke(app, onto_itself)
    assert same.exit_code == 2 and "不能是草稿本身" in same.output


def test_only_a_docx_draft(tmp_path, figures):
    (tmp_path / "draft.txt").write_text("{{banners}}", encoding="utf-8")
    with pytest.raises(TallyError, match=r"\.docx"):
        fill_draft(tmp_path / "draft.txt", figures, tmp_path / "out.docx")
    (tmp_path / "fake.docx").write_bytes(b"not a zip")
    with pytest.raises(TallyError, match="不是有效的"):
        fill_draft(tmp_path / "fake.docx", figures, tmp_path / "out.docx")
