"""The one list of forms a command writes its rows in: `--format table|csv|excel-csv|json|md|xlsx`.

Every command that prints or exports a table takes its `--format` from `OutputFormat`. A
command names the members it can write today in its option's type (a `Literal` of members,
which typer shows as the choices and checks); a command that learns a form adds the member
there, and a new form is one more member here. How each form is written stays with its
writer (`flows/cli/output.py`, `flows/report/xlsx.py`). The report document's own forms
(docx, html, …) are `flows.report.ReportFormat`.
"""

from __future__ import annotations

import enum
from typing import Literal


class OutputFormat(enum.StrEnum):
    """A form a table is written in: for a terminal, or as a file another program reads."""

    table = "table"  # a terminal: rich's table, the columns a person reads
    csv = "csv"
    json = "json"
    md = "md"
    xlsx = "xlsx"
    excel_csv = "excel-csv"  # CSV for people: UTF-8 with BOM, Chinese headings (csv is for machines)


# The forms of each kind of command, as option types (see the module's docstring).
ListFormat = Literal[  # files, runs, completeness
    OutputFormat.table, OutputFormat.csv, OutputFormat.excel_csv, OutputFormat.json
]
ExportFormat = Literal[  # problems, explain
    OutputFormat.table, OutputFormat.csv, OutputFormat.excel_csv, OutputFormat.xlsx
]
IndicatorFormat = Literal[
    OutputFormat.table, OutputFormat.csv, OutputFormat.excel_csv, OutputFormat.json, OutputFormat.md,
    OutputFormat.xlsx,
]
