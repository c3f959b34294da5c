"""One format enum: every command's `--format` takes members of `OutputFormat`."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from typer.testing import CliRunner

from flows.cli import app, load_all
from flows.report.formats import OutputFormat

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = {  # what each command writes today
    "files": ["table", "csv", "excel-csv", "json"],
    "runs": ["table", "csv", "excel-csv", "json"],
    "completeness": ["table", "csv", "excel-csv", "json"],
    "problems": ["table", "csv", "excel-csv", "xlsx"],
    "explain": ["table", "csv", "excel-csv", "xlsx"],
    "indicators": ["table", "csv", "excel-csv", "json", "md", "xlsx"],
}


def forms_of(name: str) -> list[OutputFormat]:
    """The members a command's `--format` option takes, from its type."""
    callback = next(c.callback for c in load_all().registered_commands if c.name == name)
    hint = typing.get_type_hints(callback, include_extras=True)["fmt"]
    (literal,) = [a for a in typing.get_args(hint) if typing.get_origin(a) is typing.Literal]
    return list(typing.get_args(literal))


def test_each_command_offers_its_forms_from_the_one_enum():
    for name, forms in EXPECTED.items():
        members = forms_of(name)
        assert all(isinstance(m, OutputFormat) for m in members), name
        assert [m.value for m in members] == forms, name
    help_text = CliRunner().invoke(app, ["files", "--help"]).output
    assert "<table|csv|excel-csv|json>" in help_text


def test_no_other_table_format_enum_is_left():
    enums = re.compile(r"^class (\w*Format)\(enum\.StrEnum\)", re.M)
    found = sorted(
        (str(p.relative_to(ROOT)), m) for p in ROOT.glob("flows/**/*.py")
        for m in enums.findall(p.read_text(encoding="utf-8"))
    )
    # the report document's forms (docx, html) are not table forms
    assert found == [("flows/report/__init__.py", "ReportFormat"), ("flows/report/formats.py", "OutputFormat")]


def test_a_form_a_command_cannot_write_is_refused_naming_the_forms_it_can(ws):
    runner = CliRunner()
    refused = runner.invoke(app, ["files", "--format", "md", "--warehouse", str(ws.warehouse)])
    assert refused.exit_code == 2
    words = " ".join(refused.output.replace("│", " ").split())
    assert "'md' is not one of 'table', 'csv', 'excel-csv', 'json'" in words
