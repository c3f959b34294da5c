"""Formula-like ledger text is neutralised in every CSV and XLSX export; personal data stays masked."""

from __future__ import annotations

import csv
import io
import zipfile
from xml.etree import ElementTree

import polars as pl
import pytest
from ledgerfiles import write_xlsx
from reportdata import CLEAR_PARTY, CLEAR_PHONE, INSPECTION_HEADER, build_warehouse, inspection
from typer.testing import CliRunner

from flows.cli import app, load_all
from flows.load.warehouse import connect
from flows.report import load_report, write_report
from flows.report.formula_safe import FORMULA_START
from flows.report.xlsx import write_workbook

INJECTED = '=HYPERLINK("http://example.invalid/x","点击查看")'
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
OTHERS = ("+SUM(1,2)", "-2+3", "@cmd", "\tTAB", "\rCR")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("exports")
    # A venue name that a spreadsheet would run, and a date cell that gets the row quarantined.
    write_xlsx(root / "inbox/inspections/2024-06.xlsx", {"6月": [INSPECTION_HEADER,
        inspection("2024-06-03", "日常检查", 2, INJECTED), inspection("=1+2", "日常检查", 2, "+某场所")]})  # fmt: skip
    return build_warehouse(root, venue=OTHERS[0])


def registered(name: str) -> bool:
    return any((c.name or c.callback.__name__) == name for c in load_all().registered_commands)


def unsafe_cells(cells: list[str]) -> list[str]:
    return [c for c in cells if isinstance(c, str) and c.startswith(FORMULA_START)]


def csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def xlsx_cells(path) -> list[str]:
    """Every text cell of a workbook (its shared strings), after checking no cell is a formula."""
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert "<f>" not in z.read(name).decode(), f"formula in {name}"
        if "xl/sharedStrings.xml" not in z.namelist():
            return []
        root = ElementTree.fromstring(z.read("xl/sharedStrings.xml"))
    return ["".join(t.text or "" for t in si.iter(f"{MAIN}t")) for si in root.iter(f"{MAIN}si")]


CSV_EXPORTS = [
    ("files", ["files", "--format", "csv"]),
    ("indicators", ["indicators", "--year", "2024", "--format", "csv", "--no-build"]),
    (
        "explain",
        ["explain", "venue_inspections", "--year", "2024", "--format", "csv", "--no-build"],
    ),
    ("problems", ["problems", "--format", "csv"]),
]
XLSX_EXPORTS = [
    ("indicators", ["indicators", "--year", "2024", "--format", "xlsx", "--no-build"]),
    (
        "explain",
        ["explain", "venue_inspections", "--year", "2024", "--format", "xlsx", "--no-build"],
    ),
    ("problems", ["problems", "--format", "xlsx"]),
]


@pytest.mark.parametrize(("command", "args"), CSV_EXPORTS, ids=[c for c, _ in CSV_EXPORTS])
def test_csv_exports_neutralise_formula_text(warehouse, command, args):
    assert registered(command)
    result = CliRunner().invoke(app, [*args, "--warehouse", str(warehouse)])
    assert result.exit_code == 0, result.output
    cells = csv_cells(result.stdout)
    assert unsafe_cells(cells) == []
    assert CLEAR_PARTY not in result.stdout and CLEAR_PHONE not in result.stdout
    if command in ("explain", "problems"):
        assert any(c.startswith("'=") for c in cells)  # the injected text did reach the export


@pytest.mark.parametrize(("command", "args"), XLSX_EXPORTS, ids=[c for c, _ in XLSX_EXPORTS])
def test_xlsx_exports_neutralise_formula_text(warehouse, tmp_path, command, args):
    assert registered(command)
    out = tmp_path / f"{command}.xlsx"
    result = CliRunner().invoke(app, [*args, "--output", str(out), "--warehouse", str(warehouse)])
    assert result.exit_code == 0, result.output
    cells = xlsx_cells(out)
    assert unsafe_cells(cells) == []
    assert not any(CLEAR_PARTY in c or CLEAR_PHONE in c for c in cells)
    if command == "explain":
        assert f"'{INJECTED}" in cells


def test_the_report_workbook_has_no_formula_and_no_clear_personal_data(warehouse, tmp_path):
    con = connect(warehouse, read_only=True)
    try:
        data = load_report(con, 2024)
    finally:
        con.close()
    out = write_report(data, "xlsx", tmp_path / "report.xlsx", charts=[])
    cells = xlsx_cells(out)
    assert "出动检查人次" in cells
    assert unsafe_cells(cells) == []
    assert not any(CLEAR_PARTY in c or CLEAR_PHONE in c for c in cells)


def test_the_workbook_writer_neutralises_every_kind_of_formula_start(tmp_path):
    frame = pl.DataFrame({
        "text": [INJECTED, *OTHERS, "普通文字", None],
        "names": [[INJECTED], ["a"], ["b"], ["c"], ["d"], ["e"], ["f"], None],
        "n": [1, -2, 3, 4, 5, 6, 7, None],
    })  # fmt: skip
    out = tmp_path / "w.xlsx"
    write_workbook(out, {"=bad": frame})
    cells = xlsx_cells(out)
    assert unsafe_cells(cells) == []
    assert f"'{INJECTED}" in cells and "'+SUM(1,2)" in cells and "'\tTAB" in cells
    assert "普通文字" in cells
    numbers = pl.read_excel(out, sheet_name="=bad")["n"].to_list()
    assert numbers[:2] == [1, -2]  # numbers stay numbers, a minus sign is not text
