"""Exports open cleanly in Excel: typed xlsx cells with number formats, Chinese headings with the
code beside, a BOM on the human CSV and none on the machine CSV, formula text still neutralised."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from xml.etree import ElementTree

import polars as pl
import pytest
from ledgerfiles import write_xlsx
from reportdata import INSPECTION_HEADER, build_warehouse, inspection
from typer.testing import CliRunner

from flows.cli import app

INJECTED = '=HYPERLINK("http://example.invalid/x","点击查看")'
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
runner = CliRunner()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("excel")
    write_xlsx(root / "inbox/inspections/2024-06.xlsx", {"6月": [INSPECTION_HEADER,
        inspection("2024-06-03", "日常检查", 2, INJECTED),
        inspection("=1+2", "日常检查", 2, "+某场所")]})  # fmt: skip  # the second row goes back
    return build_warehouse(root)


def tally(*args) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.stdout


def cells(path, sheet: int = 1) -> dict[str, tuple[str | None, str, str]]:
    """Each cell of a sheet: (type attribute, stored text, number format code)."""
    with zipfile.ZipFile(path) as z:
        strings = []
        if "xl/sharedStrings.xml" in z.namelist():
            root = ElementTree.fromstring(z.read("xl/sharedStrings.xml"))
            strings = ["".join(t.text or "" for t in si.iter(f"{MAIN}t")) for si in root.iter(f"{MAIN}si")]
        styles = ElementTree.fromstring(z.read("xl/styles.xml"))
        sheet_xml = ElementTree.fromstring(z.read(f"xl/worksheets/sheet{sheet}.xml"))
    codes = {n.get("numFmtId"): n.get("formatCode") for n in styles.iter(f"{MAIN}numFmt")}
    builtin = {"0": "General", "1": "0", "14": "m/d/yyyy"}
    xfs = [x.get("numFmtId") for x in styles.find(f"{MAIN}cellXfs")]
    out = {}
    for c in sheet_xml.iter(f"{MAIN}c"):
        v = c.find(f"{MAIN}v")
        kind, text = c.get("t"), (v.text if v is not None else "")
        if kind == "s":
            text = strings[int(text)]
        fmt_id = xfs[int(c.get("s", "0"))]
        out[c.get("r")] = (kind, text, codes.get(fmt_id, builtin.get(fmt_id, fmt_id)))
    return out


def row_of(grid: dict, column: str, value: str) -> int:
    return next(int(re.sub(r"\D", "", ref)) for ref, (_, text, _) in grid.items()
                if ref.startswith(column) and text == value)  # fmt: skip


def test_indicators_workbook_numbers_formats_and_headings(warehouse, tmp_path):
    out = tmp_path / "ind.xlsx"
    tally("indicators", "-y", 2024, "-f", "xlsx", "--output", out, "-w", warehouse)
    grid = cells(out)
    headings = [grid[f"{c}1"][1] for c in "ABCDEFGH"]
    assert headings == ["代码 code", "指标 name_zh", "数值 value", "单位 unit", "报告写法 printed",
                        "章节 section", "年度 year", "已报送台账 reported"]  # fmt: skip
    person = row_of(grid, "A", "inspector_person_times")
    assert grid[f"C{person}"] == (None, "23", "#,##0")  # a number, not text
    rate = row_of(grid, "A", "case_closure_rate")
    assert grid[f"C{rate}"] == (None, "50", "0.0")
    fines = row_of(grid, "A", "fines_yuan")
    assert grid[f"C{fines}"] == (None, "3500", "#,##0")
    assert grid[f"G{fines}"][:2] == (None, "2024") and grid[f"H{fines}"][:2] == ("b", "1")
    read = pl.read_excel(out)
    assert read.schema["数值 value"] == pl.Float64 and read.schema["年度 year"] == pl.Int64


def test_explain_workbook_dates_as_dates_and_formula_text_inert(warehouse, tmp_path):
    out = tmp_path / "explain.xlsx"
    tally("explain", "venue_inspections", "-y", 2024, "-f", "xlsx", "--output", out, "-w", warehouse)
    summary = cells(out, 1)
    value_row = row_of(summary, "A", "数值 value")
    assert summary[f"B{value_row}"][:2] == (None, "9")  # the figure, as a number
    rows = pl.read_excel(out, sheet_name="明细")
    assert rows.schema["日期 dated_on"] == pl.Date and rows.schema["行号 row"] == pl.Int64
    detail = cells(out, 2)
    assert any(text == f"'{INJECTED}" for _, text, _ in detail.values())
    assert not any(text.startswith(("=", "+", "@")) for kind, text, _ in detail.values() if kind == "s")


def test_machine_csv_has_no_bom_and_codes(warehouse):
    text = tally("indicators", "-y", 2024, "-f", "csv", "-w", warehouse)
    assert not text.startswith("\ufeff")
    assert text.splitlines()[0] == "code,name_zh,value,unit,printed,section,year,reported"


@pytest.mark.parametrize(
    ("args", "first_heading"),
    [(["indicators", "-y", 2024], "代码 code"), (["explain", "venue_inspections", "-y", 2024], "代码 code"),
     (["files"], "文件 path"), (["completeness", "-y", 2024], "县区 scope"), (["runs"], "运行编号 run_id"),
     (["problems", "-y", 2024], "台账")],
    ids=["indicators", "explain", "files", "completeness", "runs", "problems"],
)  # fmt: skip
def test_human_csv_has_a_bom_chinese_headings_and_no_formula(warehouse, args, first_heading):
    text = tally(*args, "-f", "excel-csv", "-w", warehouse)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0][0] == first_heading
    assert not [c for row in rows[1:] for c in row if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    if args[0] == "explain":
        assert any(c == f"'{INJECTED}" for row in rows for c in row)


def test_problem_lists_per_unit_bom_for_people_none_for_machines(warehouse, tmp_path):
    tally("problems", "-y", 2024, "-f", "excel-csv", "--out-dir", tmp_path / "people", "-w", warehouse)
    tally("problems", "-y", 2024, "-f", "csv", "--out-dir", tmp_path / "machines", "-w", warehouse)
    people = sorted((tmp_path / "people").iterdir())
    machines = sorted((tmp_path / "machines").iterdir())
    assert people and [p.name for p in people] == [p.name for p in machines]
    assert all(p.read_bytes().startswith(b"\xef\xbb\xbf") for p in people)
    assert not any(p.read_bytes().startswith(b"\xef\xbb\xbf") for p in machines)
