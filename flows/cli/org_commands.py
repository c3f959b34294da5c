"""`--org CODE` of `tally indicators`, `tally report` and `tally completeness`: an org unit's view.

At a county: that county's figures. At a city or the province: one column per county (code
order, Chinese names as headers) and the total; a county that sent nothing for the year is
shown as late (未报), never as zeros. The figures come from `flows.report.org_figures`; this
module only prints them. A terminal table holds at most `COLUMNS_PER_TABLE` value columns, so
that it fits 80 columns: a province's 22 counties are printed as several tables, and the whole
table goes to a file with `--format xlsx|csv|excel-csv -o FILE`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from flows.cli.output import console, data, emit, out, say
from flows.cli.spellings import stdout_to
from flows.contract import org_units
from flows.errors import TallyError
from flows.report.org_figures import (
    LATE,
    OrgFigures,
    completeness_matrix,
    org_completeness,
    org_figures,
)
from flows.report.org_report import late_line, md_rows, numbers_frame, title, write_org_report
from flows.report.submissions import COMPLETENESS_LEGEND

OrgOption = Annotated[str | None, typer.Option(
    "--org", show_default=False,
    help="单位：行政区划代码或名称（县区、市、自治区，如 640422、固原市、宁夏）· an org unit: a GB/T 2260 code "
         "or Chinese name (a county, a city, the province)")]
COLUMNS_PER_TABLE = 6  # value columns per terminal table: 指标 and six figures fit 80 columns (a city and its total)


def resolve(org: str):
    """Return the org unit `org` names, or exit 2 saying which names exist."""
    try:
        return org_units.resolve(org)
    except org_units.UnknownOrgUnit as exc:
        say("参数错误 · bad --org:", exc)
        raise typer.Exit(2) from exc


def signed_of(s, year: int):
    """The signed county totals of `year` when tally.toml names a lake (a city reads them by default), else None."""
    if s.lake is None:
        return None
    from flows.run.lake_run import lake_of
    from flows.run.signoff import signed_totals

    try:
        return signed_totals(lake_of(s), year)
    except TallyError as exc:
        say("失败 · failed:", exc)
        raise typer.Exit(1) from exc


def figures_of(con, org: str, year: int, signed=None) -> OrgFigures:
    """Return the org's figures (signed counties' from `signed`, see `signed_of`), or exit 1 saying why there are none."""
    resolve(org)
    try:
        return org_figures(con, org, year, signed=signed)
    except TallyError as exc:
        say("失败 · failed:", exc)
        raise typer.Exit(1) from exc


def print_figures(figures: OrgFigures, fmt: str, output: Path | None) -> None:
    """Print or write an org's figures in `fmt` (table, csv, excel-csv, json, md, xlsx)."""
    if fmt == "xlsx":
        from flows.report.xlsx import write_workbook

        path = output or Path(f"indicators-{figures.unit.code}-{figures.year}.xlsx")
        write_workbook(path, {f"{figures.year}年指标": numbers_frame(figures)})
        console.print(data(f"已写入 · written: {path}"))
        return
    if fmt != "table":
        text = figures.text(printed=True)
        with stdout_to(output):
            if fmt == "md":
                sys.stdout.write("\n".join(md_rows(text)) + "\n")
            elif fmt == "csv":  # for machines: the counties under their codes, the total as `total`
                names = {c.name_zh: c.code for c in figures.counties} | {"合计": "total", "指标": "name_zh",
                                                                        "单位": "unit", "报告写法": "printed"}
                emit(text.rename({k: v for k, v in names.items() if k in text.columns}), "csv")
            else:
                emit(text, fmt)
        return
    single = len(figures.counties) == 1  # a county: its figure beside the way the report prints it
    text = figures.text(printed=single)
    values = [c for c in text.columns if c not in ("code", "指标", "单位")]
    out.print(data(title(figures), "bold"))
    for start in range(0, len(values), COLUMNS_PER_TABLE):
        grid = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        grid.add_column("指标（单位）", overflow="fold", max_width=22)
        for name in values[start:start + COLUMNS_PER_TABLE]:
            grid.add_column(data(name), justify="right", no_wrap=True)
        for row in text.iter_rows(named=True):
            grid.add_row(data(f"{row['指标']}（{row['单位']}）"),
                         *(data(row[n], "yellow" if row[n] == LATE else "") for n in values[start:start + COLUMNS_PER_TABLE]))
        out.print(grid)
    out.print(data(late_line(figures)))


def print_completeness(con, org: str, year: int, fmt: str, deadline_day: int | None) -> None:
    """Print each county's marks per ledger and month (a column per county), or the long rows."""
    unit = resolve(org)
    frame = org_completeness(con, org, year, deadline_day=deadline_day)
    counties = sorted(org_units.counties_under(unit.code), key=lambda u: u.code)
    if fmt != "table":
        emit(frame, fmt)
        return
    matrix = completeness_matrix(frame, counties)
    out.print(data(f"{unit.name_zh}（{unit.code}）{year} 年台账报送情况（按县区）", "bold"))
    names = [c for c in matrix.columns if c not in ("台账", "月")]
    for start in range(0, max(len(names), 1), COLUMNS_PER_TABLE + 1):
        grid = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        grid.add_column("台账", no_wrap=True)
        grid.add_column("月", justify="right", no_wrap=True)
        for name in names[start:start + COLUMNS_PER_TABLE + 1]:
            grid.add_column(data(name), no_wrap=True)
        last = None
        for row in matrix.iter_rows(named=True):
            if last is not None and row["台账"] != last:
                grid.add_section()
            grid.add_row(data(row["台账"] if row["台账"] != last else ""), data(row["月"]),
                         *(data(row[n] or "") for n in names[start:start + COLUMNS_PER_TABLE + 1]))
            last = row["台账"]
        out.print(grid)
    for line in COMPLETENESS_LEGEND.splitlines():
        out.print(data(line))


def write_report(con, org: str, year: int, fmt: str, target: Path | None, deadline_day: int | None,
                 signed=None) -> None:
    """Write an org's report (md, html, xlsx, docx) to `target` (default report-CODE-YEAR.FMT; - prints md/html).

    `signed`: the signed county totals its figures read (`signed_of`).
    """
    figures = figures_of(con, org, year, signed)
    frame = org_completeness(con, org, year, deadline_day=deadline_day)
    if target is not None and str(target) == "-":
        from flows.report.org_report import render_html, render_markdown

        sys.stdout.write(render_markdown(figures, frame) if fmt == "md" else render_html(figures, frame))
        return
    path = write_org_report(figures, frame, fmt, target or Path(f"report-{figures.unit.code}-{year}.{fmt}"))
    console.print(data(f"已生成 · written: {path}"))


