"""Report outputs on a small two-year warehouse: rows, completeness, and each format read back."""

from __future__ import annotations

import base64
import io
import zipfile
from datetime import date
from html.parser import HTMLParser

import polars as pl
import pytest
from docx import Document
from reportdata import EXPECTED_2023, EXPECTED_2024, build_warehouse
from typer.testing import CliRunner

from flows.cli import app
from flows.errors import TallyError
from flows.load.warehouse import connect
from flows.report import load_report, write_report
from flows.report.charts import report_charts
from flows.report.tables import SECTIONS, change_text, check_built

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return build_warehouse(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def data(warehouse):
    con = connect(warehouse, read_only=True)
    try:
        return load_report(con, 2024)
    finally:
        con.close()


@pytest.fixture(scope="module")
def charts(data):
    return report_charts(data)


def by_code(frame: pl.DataFrame, code: str) -> dict:
    return frame.filter(pl.col("code") == code).row(0, named=True)


# Rows


def test_rows_follow_the_reports_section_order(data):
    sections = data.rows["section"].unique(maintain_order=True).to_list()
    assert sections == list(SECTIONS)
    assert [s for s, _, _ in data.sections()] == list(SECTIONS)


def test_each_figure_with_last_years_value_and_the_change(data):
    for code, value in EXPECTED_2024.items():
        assert by_code(data.rows, code)["value"] == value, code
    for code, value in EXPECTED_2023.items():
        assert by_code(data.rows, code)["last_value"] == value, code
    row = by_code(data.rows, "inspector_person_times")
    assert (row["printed"], row["value_text"], row["last_value_text"], row["change_text"]) == (
        "21余人次", "21", "4", "+17")  # fmt: skip
    fines = by_code(data.rows, "fines_yuan")
    # No case register was submitted for 2023: no last-year value and no change, a dash.
    assert (fines["printed"], fines["value_text"], fines["last_value_text"], fines["change_text"]) == (
        "0.35万元", "3500", "—", "—")  # fmt: skip
    rate = by_code(data.rows, "case_closure_rate")
    assert (rate["value_text"], rate["last_value"], rate["change_text"]) == ("50.0", None, "—")


@pytest.mark.parametrize(
    ("value", "last", "unit", "text"),
    [(21, 4, "人次", "+17"), (2, 5, "件", "-3"), (3, 3, "件", "0"), (55.5, 50.0, "%", "+5.5个百分点"),
     (1, None, "件", ""), (None, 2, "件", ""), (1.5, 0.25, "元", "+1.25")],
)  # fmt: skip
def test_change_text(value, last, unit, text):
    assert change_text(value, last, unit) == text


def test_completeness_marks_submitted_zero_and_missing_months(data):
    frame = data.completeness
    inspections = by_code(frame.rename({"ledger": "code"}), "inspections")
    # The files were first seen by tally's first run, long after the 2024 deadlines: handed in,
    # when is not known (never counted late or on time), as `tally completeness` says.
    assert [inspections[f"m{m:02d}"] for m in (1, 2, 3, 4)] == ["已报*", "已报*", "已报*", "未报"]
    assert (inspections["submitted"], inspections["expected"]) == (3, 12)
    assert (inspections["late_months"], inspections["note"]) == ("", "已报*：开始跟踪前收到，是否按时不详")
    assert inspections["missing_months"] == "4、5、6、7、8、9、10、11、12"
    safety = by_code(frame.rename({"ledger": "code"}), "safety_incidents")
    assert (safety["m02"], safety["submitted"]) == ("已报*", 1)
    staff = by_code(frame.rename({"ledger": "code"}), "staff")
    assert (staff["submitted"], staff["expected"], staff["note"]) == (1, 1, "名录快照：2024-12-31")
    assert frame["ledger"].to_list()[0] == "inspections" and frame.height == 10


def test_as_of_is_the_latest_row_and_file_of_the_year(data):
    assert data.as_of.latest_row_date == date(2024, 12, 31)
    assert data.as_of.latest_file is not None and "2024" in data.as_of.latest_file
    assert data.as_of.latest_file_seen_at is not None


def test_monthly_series_holds_both_years(data):
    months = data.monthly.filter(pl.col("code") == "inspector_person_times").sort("year", "month")
    assert months.filter(pl.col("year") == 2024)["value"].to_list()[:4] == [6, 8, 7, 0]
    assert months.filter(pl.col("year") == 2023)["value"].to_list()[2] == 4


def test_a_year_without_data_and_an_unbuilt_warehouse_say_so(warehouse, tmp_path):
    con = connect(warehouse, read_only=True)
    try:
        with pytest.raises(TallyError, match="2031"):
            load_report(con, 2031)
    finally:
        con.close()
    empty = connect(tmp_path / "empty.duckdb")
    try:
        with pytest.raises(TallyError, match="tally run"):
            check_built(empty)
    finally:
        empty.close()


# Formats


def test_markdown_tables(data, tmp_path):
    text = write_report(data, "md", tmp_path / "r.md").read_text(encoding="utf-8")
    assert text.startswith("# 2024年度")
    assert "## 一、主要举措和成效" in text and "### （二）文化市场监管执法" in text
    assert "## 二、主要负责人履职与学法培训" in text and "## 三、存在的不足" in text
    rows = [line.split(" | ") for line in text.splitlines() if line.startswith("| 出动检查人次 ")]
    assert rows == [["| 出动检查人次", "21余人次", "21", "人次", "4", "+17 |"]]
    assert "| 执法检查台账 | 执法大队 | 已报\\* | 已报\\* | 已报\\* | 未报 |" in text


def test_docx_has_a_table_per_section_the_charts_and_completeness(data, charts, tmp_path):
    path = write_report(data, "docx", tmp_path / "r.docx", charts)
    doc = Document(str(path))
    assert len(doc.tables) == len(SECTIONS) + 1
    first = doc.tables[0]
    assert [c.text.replace("\n", "") for c in first.rows[0].cells] == [
        "指标（单位）", "报告写法", "数值", "上年数值", "同比变化"]  # fmt: skip
    cells = {r.cells[0].text: [c.text for c in r.cells] for r in first.rows[1:]}
    assert cells["出动检查人次（人次）"] == ["出动检查人次（人次）", "21余人次", "21", "4", "+17"]
    assert cells["行政处罚罚款（元）"][1:3] == ["0.35万元", "3500"]
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("公文") and "标题" in p.style.name]
    assert headings[1:7] == ["一、主要举措和成效", "（二）文化市场监管执法", "（三）法治宣传教育",
                             "（四）严格规范公正文明执法", "二、主要负责人履职与学法培训", "三、存在的不足"]  # fmt: skip
    assert len(doc.inline_shapes) == len(charts) == 2
    completeness = doc.tables[-1]
    assert completeness.rows[1].cells[0].text == "执法检查台账"
    assert any("数据截至" in p.text and "2024-12-31" in p.text for p in doc.paragraphs)


def test_xlsx_sheets_values_and_images(data, charts, tmp_path):
    path = write_report(data, "xlsx", tmp_path / "r.xlsx", charts)
    sheet = pl.read_excel(path, sheet_name="指标", read_options={"header_row": 5})
    row = sheet.filter(pl.col("代码") == "inspector_person_times").row(0, named=True)
    # Last year's column holds numbers and, for figures 2023 has no data for, a dash: polars
    # reads such a column as text (the cells themselves are numbers: test_excel_exports).
    assert (row["指标"], row["报告写法"], row["数值"], row["上年数值"], row["同比变化"]) == (
        "出动检查人次", "21余人次", 21, "4", "17")  # fmt: skip
    fines = sheet.filter(pl.col("代码") == "fines_yuan").row(0, named=True)
    assert (fines["上年数值"], fines["同比变化"]) == ("—", "—")
    assert sheet.height == data.rows.height
    completeness = pl.read_excel(path, sheet_name="报送情况")
    assert completeness.row(0, named=True)["1月"] == "已报*"
    monthly = pl.read_excel(path, sheet_name="月度")
    person = monthly.filter((pl.col("指标") == "出动检查人次") & (pl.col("年份") == 2024)).row(
        0, named=True
    )
    assert (person["1月"], person["合计"]) == (6, 21)
    with zipfile.ZipFile(path) as z:
        assert len([n for n in z.namelist() if n.startswith("xl/media/")]) == 2
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml  # values, never formulas


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.images: list[str] = []
        self.links: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "img":
            self.images.append(attrs["src"])
        if tag in ("link", "script") or (tag == "a" and "href" in attrs):
            self.links.append(tag)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, text):
        if self._cell is not None:
            self._cell.append(text)


def test_html_is_self_contained_with_tables_and_embedded_charts(data, charts, tmp_path):
    text = write_report(data, "html", tmp_path / "r.html", charts).read_text(encoding="utf-8")
    page = _Collector()
    page.feed(text)
    assert len(page.tables) == len(SECTIONS) + 1
    rows = {r[0]: r for r in page.tables[0][1:]}
    assert rows["出动检查人次"] == ["出动检查人次", "21余人次", "21", "人次", "4", "+17"]
    assert page.tables[-1][0][:3] == ["台账", "报送单位", "1月"]
    assert len(page.images) == 2 and page.links == []
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1])
        assert png.startswith(PNG_SIGNATURE) and len(png) > 10_000


def test_html_escapes_cell_text(data):
    from flows.report.html import html_table

    frame = pl.DataFrame({"a": ["<script>x</script>"]})
    assert "<script>" not in html_table(frame, (("a", "A"),))


@pytest.mark.parametrize("fmt", ["md", "html", "docx", "xlsx"])
def test_cli_writes_each_format(warehouse, tmp_path, fmt, monkeypatch):
    monkeypatch.setattr("flows.report.charts.report_charts", lambda data: [])  # charts have their tests
    out = tmp_path / f"report.{fmt}"
    result = CliRunner().invoke(app, ["report", "--year", "2024", "--format", fmt, "--output", str(out),
                                      "--warehouse", str(warehouse)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 1000


def test_cli_markdown_to_stdout_and_errors(warehouse, tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        app, ["report", "-y", "2024", "-f", "md", "-o", "-", "-w", str(warehouse)]
    )
    assert result.exit_code == 0 and "| 出动检查人次 | 21余人次 |" in result.stdout
    missing = runner.invoke(
        app, ["report", "-y", "2031", "-f", "md", "-o", "-", "-w", str(warehouse)]
    )
    assert missing.exit_code == 1
    binary = runner.invoke(
        app, ["report", "-y", "2024", "-f", "docx", "-o", "-", "-w", str(warehouse)]
    )
    assert binary.exit_code == 1
    absent = runner.invoke(app, ["report", "-y", "2024", "-w", str(tmp_path / "none.duckdb")])
    assert absent.exit_code == 1


def test_docx_reads_back_from_bytes(data):
    from flows.report.docx import render_docx

    buffer = io.BytesIO()
    render_docx(data, [], buffer)
    assert Document(io.BytesIO(buffer.getvalue())).tables
