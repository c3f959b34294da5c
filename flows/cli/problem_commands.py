"""`tally problems` and `tally completeness`: what each unit must fix, and what it has not sent."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from flows.cli.app import app
from flows.cli.names import ledger_code
from flows.cli.org_commands import OrgOption
from flows.cli.org_commands import print_completeness as print_org_completeness
from flows.cli.output import (
    ConfigOption,
    WarehouseOption,
    console,
    data,
    emit,
    out,
    reading,
    safe_frame,
    settings,
)
from flows.cli.spellings import (
    OldOutOption,
    deprecated,
    refuse_folder,
    refuse_table_output,
    stdout_to,
)
from flows.report.formats import ExportFormat, ListFormat, OutputFormat
from flows.report.problem_report import (
    by_unit,
    for_clerks,
    problem_rows,
    write_csvs,
    write_one_workbook,
    write_workbooks,
    year_words,
)
from flows.report.submissions import (
    COMPLETENESS_LEGEND,
    DEADLINE_DAY,
    completeness,
    deadline_day_of,
    stored_deadline_day,
)

YearOption = Annotated[int, typer.Option("--year", "-y", help="年度 · year")]


class Severity(enum.StrEnum):
    """A problem's severity: an error quarantined its row, a warning let it load."""

    error = "error"
    warning = "warning"


def open_read_only(warehouse: Path):
    """Open the warehouse read-only, or exit with the reason (see `output.reading`)."""
    return reading(warehouse)


@app.command("problems")
def problems_command(
    year: Annotated[int | None, typer.Option("--year", "-y", help="年度（默认：历年）· year (default: all)")] = None,
    ledger: Annotated[str | None, typer.Option(
        "--ledger", "-l", help="台账代码或中文名 · ledger code or Chinese name, e.g. inspections, 执法检查台账")] = None,
    severity: Annotated[Severity | None, typer.Option(
        "--severity", "-s", help="只列错误或警告 · errors or warnings only")] = None,
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="输出格式 · output format")] = OutputFormat.table,
    out_dir: Annotated[Path | None, typer.Option(
        "--out-dir", help="输出文件夹，每个单位一个文件 · folder to write, a file per unit", show_default=False)] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="输出文件，所有单位写入一个文件 · one file for all units", show_default=False)] = None,
    old_out: OldOutOption = None,
    warehouse: WarehouseOption = None,
    config: ConfigOption = None,
) -> None:
    """各单位要改正的问题 · What each unit must fix, file by file.

    Quarantined rows, warnings and rejected files, each with its sheet, row, header and value.

    \b
    Examples:
        tally problems --year 2024 --ledger 执法检查台账
        tally problems --year 2024 --severity error --format xlsx --out-dir 退回
        tally problems --year 2024 --format xlsx -o 2024年问题清单.xlsx
    """
    out_dir = deprecated(old_out, out_dir, "--out", "--out-dir")
    if output is not None and out_dir is None and (output.is_dir() or not output.suffix):
        # `-o` named the folder here before it meant a file everywhere: a path with no file
        # suffix (or a folder) is still read as the folder, for one release, and said so.
        out_dir, output = deprecated(output, None, "-o（作文件夹用 · as a folder）", "--out-dir"), None
    refuse_folder(output)
    refuse_table_output(output, fmt.value)
    if ledger is not None:
        ledger = ledger_code(ledger)
    s = settings(config, warehouse=warehouse)
    with open_read_only(s.warehouse) as con:
        rows = problem_rows(con, year, ledger=ledger, severity=severity.value if severity else None)
    if fmt is OutputFormat.xlsx and output is not None:
        console.print(data(f"已写出 · wrote {write_one_workbook(rows, year, output)}"))
        return
    csv_forms = (OutputFormat.csv, OutputFormat.excel_csv)
    if fmt is OutputFormat.xlsx or (fmt in csv_forms and out_dir is not None):
        folder = out_dir or Path(f"{year_words(year)}台账问题清单")
        if fmt is OutputFormat.xlsx:
            paths = write_workbooks(rows, year, folder)
        else:
            paths = write_csvs(rows, year, folder, bom=fmt is OutputFormat.excel_csv)
        for path in paths:
            console.print(data(f"已写出 · wrote {path}"))
        if rows.height == 0:
            console.print(f"{year_words(year)}没有需要退回的问题 · no problems")
        return
    if fmt in csv_forms:
        bom = "\ufeff" if fmt is OutputFormat.excel_csv else ""
        with stdout_to(output):
            sys.stdout.write(bom + safe_frame(for_clerks(rows)).write_csv())
        return
    print_by_unit(rows, year)


def print_by_unit(rows, year: int | None) -> None:
    """Print one table per unit, its problems grouped file by file."""
    if rows.height == 0:
        out.print(f"{year_words(year)}没有需要退回的问题 · no problems")
        return
    for unit, part in by_unit(rows).items():
        table = Table(title=data(f"{unit}：{part.height} 项"), show_lines=False)
        for header in ("行号", "列名", "原值", "问题类型", "说明"):
            table.add_column(header, overflow="fold")
        for (path, sheet), group in part.group_by("path", "sheet", maintain_order=True):
            table.add_section()
            table.add_row(data(f"{path}{f'（{sheet}）' if sheet else ''}", "bold"), "", "", "", "")
            for row in group.iter_rows(named=True):
                table.add_row(*[data(row[k]) for k in ("row", "header", "raw_value", "rule_zh", "message")])
        out.print(table)


@app.command("completeness")
def completeness_command(
    year: YearOption,
    deadline_day: Annotated[int | None, typer.Option(
        "--deadline-day", min=1, max=28,
        help=f"次月报送截止日 · deadline day of the following month (default: the warehouse's rule, {DEADLINE_DAY} unless set)",
    )] = None,
    fmt: Annotated[ListFormat, typer.Option("--format", "-f", help="输出格式 · output format")] = OutputFormat.table,
    warehouse: WarehouseOption = None,
    config: ConfigOption = None,
    org: OrgOption = None,
) -> None:
    """台账报送情况 · Submitted, late or missing, by ledger and month.

    With --org, per county of the unit (a column each); a county that sent nothing is 未报.

    \b
    Example:
        tally completeness --year 2024
        tally completeness --year 2024 --org 固原市
    """
    s = settings(config, warehouse=warehouse)
    day = deadline_day_of(s, deadline_day)
    if org is not None:  # per county of an org unit (flows/cli/org_commands.py)
        with open_read_only(s.warehouse) as con:
            print_org_completeness(con, org, year, fmt.value, day)
        return
    with open_read_only(s.warehouse) as con:
        frame = completeness(con, year, deadline_day=day)
        stored = stored_deadline_day(con)
    title = f"{year}年台账报送情况（次月{day or stored}日前报送）"
    if fmt is OutputFormat.table:
        print_completeness(frame, title)
        return
    emit(frame, fmt.value, title=title)


def print_completeness(frame, title: str) -> None:
    """Print one line per unit, ledger and month in under 80 columns: the mark, not the long status."""
    table = Table(title=data(title), box=box.SIMPLE_HEAD, pad_edge=False)
    for header, justify in (("单位", "left"), ("台账", "left"), ("月", "right"), ("情况", "left"),
                            ("收到日期", "left"), ("截止日期", "left")):
        table.add_column(header, justify=justify, no_wrap=True)
    scoped = frame["scope"].n_unique() > 1
    last = None
    for row in frame.iter_rows(named=True):
        snapshot = row["month"] is None
        mark = ("名录快照" if row["latest_snapshot"] else "未报") if snapshot else row["mark"]
        received = row["latest_snapshot"] if snapshot else row["submitted_on"]
        ledger = f"{row['scope']}·{row['ledger_zh']}" if scoped else row["ledger_zh"]
        if last is not None and ledger != last:
            table.add_section()
        table.add_row(data(row["unit_zh"]), data(ledger), "" if snapshot else str(row["month"]),
                      data(mark), data(received or ""), data(row["deadline"] or ""))
        last = ledger
    out.print(table)
    for line in COMPLETENESS_LEGEND.splitlines():
        out.print(data(line))
