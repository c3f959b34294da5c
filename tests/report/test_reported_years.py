"""Year over year only against a year that has data: its ledgers were submitted for it.

The warehouse holds 2024 only, plus a 2023-12-30 inspection in a 2024 file and a 2023-12-27
hotline ticket in a 2024 register: rows dated in 2023 that make a full set of 2023 figures in
the SQL models, but 2023 was never submitted and must not be compared against.
"""

from __future__ import annotations

import duckdb
import polars as pl
import pytest
from ledgerfiles import write_xlsx
from reportdata import HOTLINE_HEADER, INSPECTION_HEADER, build_warehouse, inspection, write_2024
from typer.testing import CliRunner

from flows.cli import app
from flows.contract.catalog import load_catalog
from flows.load.warehouse import connect
from flows.report import load_report, render_text
from flows.report.charts import report_charts
from flows.report.reported import codes_with_data, ledgers_of
from flows.run.stages import run_ingest
from flows.transform import indicators

runner = CliRunner()


@pytest.fixture(scope="module")
def stray(tmp_path_factory):
    """2024's ledgers, one inspection and one ticket of theirs dated in December 2023."""
    root = tmp_path_factory.mktemp("stray")
    inbox = root / "inbox"
    write_2024(inbox)
    write_xlsx(inbox / "inspections/2024-01.xlsx", {"1月": [INSPECTION_HEADER,
        inspection("2024-01-05", "专项检查", 3, campaign="元旦春节专项检查"),
        inspection("2023-12-30", "日常检查", 2)]})  # fmt: skip
    write_xlsx(inbox / "hotline/2024-05.xlsx", {"Sheet1": [HOTLINE_HEADER,
        ["GD-0", "2023-12-27", "投诉", "2024-01-03", "2024-01-02", "2024-01-02"],
        ["GD-1", "2024-05-02", "投诉", "2024-05-09", "2024-05-06", "2024-05-08"]]})  # fmt: skip
    warehouse = root / "warehouse" / "tally.duckdb"
    run_ingest(inbox, warehouse)
    with connect(warehouse) as con:
        indicators.build(con)
    return warehouse


@pytest.fixture(scope="module")
def report(stray):
    with connect(stray, read_only=True) as con:
        return load_report(con, 2024)


def test_the_stray_rows_do_make_2023_figures_in_the_models(stray):
    with connect(stray, read_only=True) as con:
        table = indicators.indicator_table(con, 2023)
        assert codes_with_data(con, 2023) == set()
    values = dict(zip(table["code"], table["value"], strict=True))
    assert (values["inspector_person_times"], values["hotline_tickets"]) == (2, 1)


def test_the_2023_column_is_a_dash_everywhere(report):
    rows = report.rows
    assert rows.height == len(load_catalog())
    assert rows["last_has_data"].to_list() == [False] * rows.height
    assert rows["last_value"].null_count() == rows.height
    assert set(rows["last_value_text"]) == {"—"} and set(rows["change_text"]) == {"—"}
    person = rows.filter(pl.col("code") == "inspector_person_times").row(0, named=True)
    assert (person["value"], person["printed"], person["last_value_text"]) == (18, "18余人次", "—")


def test_no_2023_series_and_no_comparison_chart(report):
    assert report.monthly["year"].unique().to_list() == [2024]
    charts = report_charts(report)
    assert [c.name for c in charts] == ["monthly"]


def test_every_format_says_dash_for_2023(report):
    text = render_text(report, "md")
    lines = [line for line in text.splitlines() if line.startswith("| 出动检查人次 ")]
    assert lines == ["| 出动检查人次 | 18余人次 | 18 | 人次 | — | — |"]
    assert "虚线为2023年" not in text


def test_indicators_for_an_unsubmitted_year_is_refused(stray):
    result = runner.invoke(app, ["indicators", "--year", "2023", "-w", str(stray)])
    assert result.exit_code == 1
    assert "2023 年没有报送任何台账" in result.output and "其他年度" in result.output
    assert "2余人次" not in result.output


def test_a_figure_whose_ledger_was_not_submitted_has_no_value(tmp_path):
    inbox = tmp_path / "inbox"
    write_xlsx(inbox / "inspections/2024-03.xlsx", {"3月": [INSPECTION_HEADER,
        inspection("2024-03-04", "日常检查", 2)]})  # fmt: skip
    warehouse = tmp_path / "tally.duckdb"
    run_ingest(inbox, warehouse)
    with connect(warehouse) as con:
        indicators.build(con)
    result = runner.invoke(app, ["indicators", "--year", "2024", "-f", "csv", "-w", str(warehouse)])
    assert result.exit_code == 0, result.output
    rows = {r["code"]: r for r in pl.read_csv(result.stdout.encode(), infer_schema=False).iter_rows(named=True)}
    assert (rows["venue_inspections"]["value"], rows["venue_inspections"]["reported"]) == ("1", "true")
    assert (rows["cases_filed"]["value"], rows["cases_filed"]["printed"]) == (None, "—")
    assert rows["cases_filed"]["reported"] == "false"


def test_the_ledger_map_covers_every_figure_and_every_fact(tmp_path):
    warehouse = build_warehouse(tmp_path)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        pairs = con.execute("SELECT DISTINCT code, ledger FROM indicator_facts").fetchall()
    assert pairs
    for code, ledger in pairs:
        assert ledger in ledgers_of(code), (code, ledger)
    for code in load_catalog():
        assert ledgers_of(code)


def test_fill_and_check_draft_refuse_an_unsubmitted_year(stray, tmp_path):
    """A draft filled or checked for 2023 gets no figure from the stray 2023-12-30 row."""
    from docx import Document

    draft = tmp_path / "draft.docx"
    doc = Document()
    doc.add_paragraph("出动检查人次{{出动检查人次}}。")
    doc.save(draft)
    filled = runner.invoke(app, ["fill", str(draft), "--year", "2023", "--output", str(tmp_path / "out.docx"),
                                 "-w", str(stray)])
    assert filled.exit_code != 0, filled.output
    assert "2023 年没有报送任何台账" in " ".join(filled.output.split())
    assert not (tmp_path / "out.docx").exists()

    text = tmp_path / "draft.txt"
    text.write_text("全年出动检查人次2余人次。\n", encoding="utf-8")
    checked = runner.invoke(app, ["check-draft", str(text), "--year", "2023", "-w", str(stray)])
    assert checked.exit_code != 0, checked.output
    assert "2023 年没有报送任何台账" in " ".join(checked.output.split())
