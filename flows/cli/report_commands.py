"""`tally report` and `tally check-draft`: the year's figures as a document, and a draft checked."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import duckdb
import typer
from rich.table import Table

from flows.cli.app import app
from flows.cli.org_commands import OrgOption, signed_of
from flows.cli.org_commands import write_report as write_org_report
from flows.cli.output import (
    ConfigOption,
    WarehouseOption,
    console,
    data,
    open_reader,
    out,
    say,
    settings,
    unreadable,
)
from flows.cli.spellings import OldOutOption, deprecated
from flows.errors import TallyError
from flows.report import ReportFormat, default_path, load_report, render_text, write_report
from flows.report.submissions import deadline_day_of

if TYPE_CHECKING:  # cn2an, which reads a draft's Chinese numerals, costs `tally run` 0.4 s to import
    from flows.report.draft_check import DraftCheck

YearOption = Annotated[int, typer.Option("--year", "-y", help="报告年度 · report year")]


def _open(warehouse: Path | None, config: Path | None):
    return open_reader(settings(config, warehouse=warehouse).warehouse)


def check_out_file(out_file: Path | None, name: str) -> None:
    """Refuse, before any work and in one line (exit 2), an --output that names a folder."""
    if out_file is None or str(out_file) == "-":
        return
    if out_file.is_dir():
        say("参数错误 · bad --output:", f"{out_file} 是文件夹，请给出要写入的文件名，如 {out_file / name}"
                                        f" · --output must name a file, not a folder")
        raise typer.Exit(2)


@app.command("report")
def report_command(
    year: YearOption,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="报告格式 · report format")
    ] = ReportFormat.html,
    out_file: Annotated[Path | None, typer.Option(
        "--output", "-o", show_default=False,
        help="输出文件（md、html 可用 - 输出到屏幕）· the file to write (md, html: - for stdout)")] = None,
    old_out: OldOutOption = None,
    deadline_day: Annotated[int | None, typer.Option(
        "--deadline-day", min=1, max=28,
        help="次月报送截止日（同 tally completeness）· deadline day, as for tally completeness",
    )] = None,
    warehouse: WarehouseOption = None,
    config: ConfigOption = None,
    org: OrgOption = None,
) -> None:
    """年度指标报告 · The year's figures as a document.

    With last year's values, charts and the completeness grid. With --org, an org unit's
    figures: a column per county and the total, the late counties named, each county's completeness.

    \b
    Example:
        tally report --year 2024 --format docx -o 2024年指标.docx
        tally report --year 2024 --org 640400 --format xlsx -o 固原市2024.xlsx
    """
    out_file = deprecated(old_out, out_file, "--out", "--output")
    check_out_file(out_file, default_path(year, fmt).name)
    if out_file is not None and str(out_file) == "-" and fmt in (ReportFormat.docx, ReportFormat.xlsx):
        say("", f"{fmt.value} 是二进制格式，请用 --output 指定文件 · a binary format: give --output a file")
        raise typer.Exit(1)
    s = settings(config, warehouse=warehouse)
    con = _open(warehouse, config)
    if org is not None:  # an org unit's report (flows/cli/org_commands.py): signed figures first
        signed = signed_of(s, year)
        try:
            with con:
                write_org_report(con, org, year, fmt.value, out_file, deadline_day_of(s, deadline_day), signed)
        except duckdb.Error as exc:
            raise unreadable(s.warehouse, exc) from exc
        return
    try:
        with con:
            report = load_report(con, year, s.bureau, deadline_day=deadline_day_of(s, deadline_day))
    except duckdb.Error as exc:
        raise unreadable(s.warehouse, exc) from exc
    except TallyError as exc:
        say("", exc)
        raise typer.Exit(1) from exc
    if out_file is not None and str(out_file) == "-":
        sys.stdout.write(render_text(report, fmt))
        return
    target = out_file or default_path(year, fmt)
    try:
        path = write_report(report, fmt, target)
    except TallyError as exc:
        say("", exc)
        raise typer.Exit(1) from exc
    except OSError as exc:  # a folder that cannot be made or written, a full disk
        say("报告未写出 · report not written:", f"{target}：{exc.strerror or exc}")
        raise typer.Exit(1) from exc
    console.print(data(f"已生成 · written: {path}"))


def print_check(result: DraftCheck) -> None:
    """Print each matched figure with the computed one beside it, then the unmatched figures."""
    table = Table(title="草稿数字核对 · draft figures", show_lines=False)
    for heading in ("行", "指标", "草稿写法", "计算值", "应写作", "结论"):
        table.add_column(heading, overflow="fold")
    for c in result.matched:
        verdict = data("一致", "green") if c.agrees else data("不一致", "red")
        value = "无数据" if c.value is None else f"{c.value:g}"
        table.add_row(
            data(c.line), data(c.name_zh or c.code or ""), data(c.cited), data(value),
            data(c.computed or ""), verdict,
        )  # fmt: skip
    out.print(table)
    if result.unmatched:
        out.print("未能对应到指标的数字 · figures not matched to an indicator:")
        for c in result.unmatched:
            out.print(data(f"  第{c.line}行 {c.cited}：{c.context}"))
    bad = len(result.disagreements)
    summary = f"共核对 {len(result.matched)} 处，不一致 {bad} 处，未对应 {len(result.unmatched)} 处"
    out.print(f"[red]{summary}[/red]" if bad else f"[green]{summary}[/green]")


@app.command("check-draft")
def check_draft_command(
    draft: Annotated[Path, typer.Argument(help="草稿文件（.txt、.md、.docx）· the draft file")],
    year: YearOption,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="有未对应到指标的数字也返回 1 · exit 1 when any number is unmatched"),
    ] = False,
    warehouse: WarehouseOption = None,
    config: ConfigOption = None,
) -> None:
    """核对草稿数字 · Check a draft's figures against the warehouse.

    Exit 1 when one disagrees.

    A number with a unit that no indicator claims is listed as unmatched, with its sentence.
    With --strict an unmatched number makes the exit code 1 too.

    \b
    Example:
        tally check-draft 2024年法治政府建设报告（初稿）.docx --year 2024 --strict
    """
    from flows.report.draft_check import check_draft

    con = _open(warehouse, config)
    try:
        with con:
            result = check_draft(draft, con, year)
    except duckdb.Error as exc:
        raise unreadable(settings(config, warehouse=warehouse).warehouse, exc) from exc
    except TallyError as exc:
        say("", exc)
        raise typer.Exit(2) from exc
    print_check(result)
    if not result.ok or (strict and result.unmatched):
        raise typer.Exit(1)


@app.command("fill")
def fill_command(
    draft: Annotated[Path, typer.Argument(help="带占位符的 Word 草稿（.docx）· a Word draft with placeholders")],
    year: YearOption,
    out_file: Annotated[Path | None, typer.Option(
        "--output", "-o", help="写出的 .docx（必填）· the .docx to write (required)", show_default=False)] = None,
    old_out: OldOutOption = None,
    warehouse: WarehouseOption = None,
    config: ConfigOption = None,
) -> None:
    """填写草稿占位符 · Fill a Word draft's placeholders with the figures.

    Placeholders such as {{出动检查人次}} or {{表:一(二)}}. A placeholder that cannot be filled stays as written and is listed (exit code 1).
    Forms: {{NAME|printed}} (default), {{NAME|number}}, {{NAME|exact}}, {{NAME|value}}.

    \b
    Example:
        tally fill 2025年报告（模板）.docx --year 2025 -o 2025年报告.docx
    """
    from flows.report.fill import fill_from_warehouse

    out_file = deprecated(old_out, out_file, "--out", "--output")
    if out_file is None:
        raise typer.BadParameter("请用 --output 指定要写出的 .docx · give the .docx to write", param_hint="--output")
    check_out_file(out_file, "报告.docx")
    con = _open(warehouse, config)
    try:
        with con:
            result = fill_from_warehouse(draft, con, year, out_file)
    except duckdb.Error as exc:
        raise unreadable(settings(config, warehouse=warehouse).warehouse, exc) from exc
    except TallyError as exc:
        say("", exc)
        raise typer.Exit(2) from exc
    except OSError as exc:  # a folder that cannot be made or written, a full disk
        say("未写出 · not written:", f"{out_file}：{exc.strerror or exc}")
        raise typer.Exit(1) from exc
    table = Table(title="占位符 · placeholders", show_lines=False)
    for heading in ("占位符", "指标", "写法", "填入"):
        table.add_column(heading, overflow="fold")
    for p in result.placeholders:
        filled = p.text if p.section is None else f"表格：{p.section}"
        table.add_row(data("{{" + p.written + "}}"), data(p.code or ""), data(p.form or ""),
                      data(filled) if p.reason is None else data("未填写", "red"))  # fmt: skip
    out.print(table)
    for p in result.unresolved:
        out.print(data(f"  未填写 {{{{{p.written}}}}}：{p.reason}"))
    summary = (f"共 {len(result.placeholders)} 处占位符，已填写 "
               f"{len(result.placeholders) - len(result.unresolved)} 处，未填写 {len(result.unresolved)} 处")  # fmt: skip
    out.print(f"[red]{summary}[/red]" if result.unresolved else f"[green]{summary}[/green]")
    console.print(data(f"已生成 · written: {result.out}"))
    if not result.ok:
        raise typer.Exit(1)
