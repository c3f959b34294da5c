"""`tally indicators` and `tally explain`: the report's figures for a year, and the rows behind one."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import duckdb
import polars as pl
import typer
from rich.table import Table
from rich.text import Text

from flows.cli.app import app
from flows.cli.exports import indicator_format, write_xlsx
from flows.cli.names import indicator_code
from flows.cli.org_commands import OrgOption, figures_of, print_figures, signed_of
from flows.cli.output import (
    ConfigOption,
    ContractOption,
    WarehouseOption,
    console,
    data,
    emit,
    open_reader,
    out,
    say,
    settings,
    unreadable,
)
from flows.cli.signoff_commands import ChangesOption, show_changes
from flows.cli.spellings import refuse_folder, refuse_table_output, stdout_to
from flows.errors import TallyError
from flows.load.warehouse import connect
from flows.publish import swap as publish
from flows.report.formats import ExportFormat, IndicatorFormat, OutputFormat
from flows.report.markdown import md_cell
from flows.report.reported import NO_DATA, reported_figures
from flows.run.ingest import new_run_id
from flows.transform import indicators

YearOption = Annotated[int, typer.Option("--year", "-y", help="报告年度 · report year")]
OutputOption = Annotated[Path | None, typer.Option(
    "--output", "-o", show_default=False,
    help="输出文件（csv、excel-csv、json、md、xlsx；默认 xlsx 写入当前文件夹，其余写到屏幕）· the file to write "
         "(default: xlsx to the current folder, the others to stdout)")]
FormatOption = Annotated[IndicatorFormat, typer.Option(
    "--format", "-f", help="输出格式 · output format")]
# Every run rebuilds the models, so reading is the default: it never takes the warehouse's
# write lock away from a run or from an analyst holding it open read-only.
NoBuildOption = Annotated[
    bool,
    typer.Option("--no-build/--build",
                 help="只读上次运行的结果（默认），或先重算模型 · read the figures as last built "
                      "(default), or rebuild the models first"),
]
CSV_COLUMNS = ("code", "name_zh", "value", "unit", "printed", "section", "year", "reported")


def open_built(warehouse: Path, *, build: bool, memory_limit: str | None = "1GB", lock_wait: float = 0.0):
    """Open the warehouse read-only; with `build`, rebuild the models aside and publish them first."""
    if not warehouse.exists():
        return open_reader(warehouse)  # exits, saying where tally looked and what to do
    if build:
        rebuild(warehouse, memory_limit=memory_limit, lock_wait=lock_wait)
    return open_reader(warehouse)


def rebuild(warehouse: Path, *, memory_limit: str | None = "1GB", lock_wait: float = 0.0) -> None:
    """Rebuild the SQL models as a run publishes: under the run lock, in an aside copy, then swap.

    Building in the published file would take DuckDB's write lock on it: analysts' read-only
    connections would fail meanwhile, and an open one makes the build fail. `tally run` does
    not rebuild when nothing is new, so this is how changed SQL models reach the warehouse.
    """
    run_id = "build-" + new_run_id()
    with publish.run_lock(warehouse, run_id=run_id, wait=lock_wait):
        aside = publish.build_aside(warehouse, run_id)
        try:
            con = connect(aside, memory_limit=memory_limit, temp_directory=publish.spill_folder(warehouse))
            try:
                indicators.build(con)
                publish.close_aside(con)
            except BaseException:
                con.close()
                raise
            publish.swap(aside, warehouse)
        except BaseException as exc:
            publish.discard_aside(aside)
            if isinstance(exc, duckdb.Error | OSError):
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise TallyError(f"模型重算失败，已发布的仓库未改动 · rebuild failed, nothing published: "
                                 f"{type(exc).__name__}: {first}") from exc
            raise


def markdown(frame: pl.DataFrame) -> str:
    """Write a frame as a Markdown table, every cell escaped."""
    lines = ["| " + " | ".join(md_cell(c) for c in frame.columns) + " |", "|" + " --- |" * frame.width]
    lines += ["| " + " | ".join(md_cell(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join(lines) + "\n"


def fail(exc: TallyError) -> typer.Exit:
    """Say what went wrong, in the clerk's words, and return the exit to raise."""
    say("失败 · failed:", exc)
    if isinstance(exc, publish.RunInProgress):
        return typer.Exit(75)  # as `tally run`: another run is at work, try later
    return typer.Exit(2 if isinstance(exc, publish.FolderUnusable) else 1)


@app.command("indicators")
def indicators_command(
    year: YearOption,
    warehouse: WarehouseOption = None,
    fmt: FormatOption = OutputFormat.table,
    output: OutputOption = None,
    no_build: NoBuildOption = True,
    config: ConfigOption = None,
    contract: ContractOption = None,
    org: OrgOption = None,
    changes_since_signoff: ChangesOption = False,
) -> None:
    """年度指标 · The year's report figures.

    Each figure's value, unit and the way the report prints it (1.365万元, 7.2万余张).
    With --org, an org unit's: a county's, or a city's with a column per county and the total.

    \b
    Example:
        tally indicators --year 2024 --format csv -o indicators-2024.csv
        tally indicators --year 2024 --org 固原市
    """
    refuse_folder(output)
    refuse_table_output(output, fmt.value)
    s = settings(config, warehouse=warehouse, contract=contract)
    if changes_since_signoff:  # the sign-off's comparison (flows/cli/signoff_commands.py)
        show_changes(s, org, year, fmt.value, asked=changes_since_signoff, output=output)
        return
    if org is not None:  # an org unit's figures, from the build's county totals (flows/cli/org_commands.py)
        signed = signed_of(s, year)  # a lake's signed counties: their signed figures
        try:
            with open_built(s.warehouse, build=not no_build, memory_limit=s.memory_limit,
                            lock_wait=s.lock_wait) as con:
                figures = figures_of(con, org, year, signed)
        except duckdb.Error as exc:
            raise unreadable(s.warehouse, exc) from exc
        print_figures(figures, fmt.value, output)
        return
    try:
        with open_built(s.warehouse, build=not no_build, memory_limit=s.memory_limit,
                        lock_wait=s.lock_wait) as con:
            table = indicators.indicator_table(con, year)
            table = reported_figures(table, con, year)
    except TallyError as exc:
        raise fail(exc) from exc
    except duckdb.Error as exc:
        raise unreadable(s.warehouse, exc) from exc
    if table.is_empty():
        raise fail(TallyError(f"{year} 年没有任何台账数据"))
    text = indicators.export_frame(table).select(CSV_COLUMNS)
    if fmt in (OutputFormat.csv, OutputFormat.excel_csv, OutputFormat.json, OutputFormat.md):
        with stdout_to(output):
            if fmt is OutputFormat.md:
                sys.stdout.write(markdown(text))
            else:
                emit(table if fmt is OutputFormat.json else text, fmt.value)
    elif fmt is OutputFormat.xlsx:
        path = output or Path(f"indicators-{year}.xlsx")
        write_xlsx(path, {f"{year}年指标": table.select(CSV_COLUMNS)}, cell_format=indicator_format)
        console.print(data(f"已写入 · written: {path}"))
    else:
        grid = Table(title=f"{year} 年度法治政府建设报告指标")
        for header in ("代码 code", "指标", "数值 value", "单位", "报告写法 printed", "章节"):
            grid.add_column(header, overflow="fold")
        for row in text.iter_rows(named=True):
            row["value"] = row["value"] if row["reported"] else NO_DATA  # not submitted: no figure
            grid.add_row(*(data(row[k]) for k in ("code", "name_zh", "value", "unit", "printed", "section")))
        out.print(grid)


@app.command("explain")
def explain_command(
    code: Annotated[str, typer.Argument(
        metavar="INDICATOR", help="指标代码或中文名 · indicator code or Chinese name, e.g. cases_filed, 行政处罚罚款")],
    year: YearOption,
    warehouse: WarehouseOption = None,
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="输出格式 · output format")] = OutputFormat.table,
    output: OutputOption = None,
    no_build: NoBuildOption = True,
    config: ConfigOption = None,
) -> None:
    """一个指标及其来源行 · One figure and the rows behind it.

    Its definition, its value, and the ledger rows it counts, each with its file, sheet and
    row as the spreadsheet shows them.

    The rows are given with their file, sheet and row as the spreadsheet shows them.

    \b
    Examples:
        tally explain 行政处罚罚款 --year 2024
        tally explain cases_filed --year 2024 --format csv -o cases_filed-2024.csv
    """
    refuse_folder(output)
    refuse_table_output(output, fmt.value)
    s = settings(config, warehouse=warehouse)
    code = indicator_code(code)
    try:
        with open_built(s.warehouse, build=not no_build, memory_limit=s.memory_limit,
                        lock_wait=s.lock_wait) as con:
            explained = indicators.explain(con, code, year)
    except TallyError as exc:
        raise fail(exc) from exc
    except duckdb.Error as exc:
        raise unreadable(s.warehouse, exc) from exc
    summary = explained.summary()
    rows = explained.rows.with_columns(code=pl.lit(code), year=pl.lit(year))
    if fmt in (OutputFormat.csv, OutputFormat.excel_csv):
        with stdout_to(output):
            emit(rows.select("code", "year", *explained.rows.columns), fmt.value)
    elif fmt == OutputFormat.xlsx:
        path = output or Path(f"explain-{code}-{year}.xlsx")
        # The figure's header with its value as a number, then its rows, typed.
        pairs = [(k, explained.value if k == "value" else v) for k, v in summary.items()]
        write_xlsx(path, {"指标": pairs, "明细": explained.rows})
        console.print(data(f"已写入 · written: {path}"))
    else:
        for key in (
            "code",
            "name_zh",
            "definition_zh",
            "definition_en",
            "value",
            "printed",
            "rows",
        ):
            value = f"{summary[key]}{'' if key != 'value' else ' ' + summary['unit']}"
            out.print(Text.assemble((key, "bold"), ": ", data(value)))
        emit(table_view(explained), "table", title=f"{summary['name_zh']} · {year}")


def table_view(explained: indicators.Explanation) -> pl.DataFrame:
    """Keep the columns of an explanation that matter for its kind of figure."""
    telling = {"sum": ["amount"], "distinct": ["distinct_value"], "rate": ["meets_condition"]}
    extra = telling.get(explained.indicator.aggregation, [])
    return explained.rows.select("dated_on", *extra, "record_key", "label", "path", "sheet", "row")
