"""`tally sample`: write a year's realistic sample inbox with known figures and known mistakes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from flows.cli.app import app
from flows.cli.output import console, data, say
from flows.cli.spellings import OldOutOption, OldShortOutOption, deprecated
from flows.contract.org_units import UnknownOrgUnit
from flows.sample import DEFAULT_SEED, write_sample_inbox
from flows.sample.org import write_org_inbox
from flows.sample.writers import INSTALL_HINT, missing_extra


@app.command("sample")
def sample_command(
    year: Annotated[int, typer.Option("--year", "-y", help="年份 · the year to generate")],
    out_dir: Annotated[Path | None, typer.Option(
        "--out-dir", help="要写入的收件箱文件夹（必填）· the inbox folder to write (required)", show_default=False)] = None,
    seed: Annotated[
        int, typer.Option("--seed", help="随机种子，同一种子同样的文件 · same seed, same files")
    ] = DEFAULT_SEED,
    old_out: OldOutOption = None,
    old_short: OldShortOutOption = None,
    org: Annotated[str | None, typer.Option(
        "--org", help="市、区或县（代码或名称）：每县一个文件夹，各县数字不同 · a city, province or county: "
        "one folder per county, <out-dir>/<county code>/<ledger>/<file>, each with figures of its own",
        show_default=False)] = None,
) -> None:
    """写出样例收件箱 · Write a sample inbox.

    A year of messy ledger files whose figures are known; with --org, one folder per county
    of a city or the province, each county with figures of its own.

    \b
    Example:
        tally sample --year 2024 --out-dir warehouse/inbox-2024
        tally sample --year 2024 --org 640400 --out-dir warehouse/inbox-guyuan
    """
    out = deprecated(old_short, deprecated(old_out, out_dir, "--out", "--out-dir"), "-o", "--out-dir")
    if out is None:
        raise typer.BadParameter("请用 --out-dir 指定收件箱文件夹 · give the folder to write", param_hint="--out-dir")
    if missing := missing_extra():  # checked first: never half an inbox
        say("缺少样例生成所需的可选依赖 · the sample generator needs an extra:",
            f"{missing} 未安装 · not installed; 请安装 · install it with: {INSTALL_HINT}")
        raise typer.Exit(2)
    if org is not None:
        org_sample(year, out, org, seed)
        return
    manifest = write_sample_inbox(year, out, seed)
    files = Counter(f.ledger for f in manifest.files)
    rows = Counter()
    for f in manifest.files:
        rows[f.ledger] += f.data_rows
    table = Table(title=data(f"样例收件箱 · sample inbox {year} → {out}"))
    table.add_column("台账 · ledger")
    table.add_column("文件 · files", justify="right")
    table.add_column("数据行 · rows", justify="right")
    for ledger, count in files.items():
        table.add_row(ledger, str(count), str(rows[ledger]))
    console.print(table)
    errors = sum(m.severity == "error" for m in manifest.mistakes)
    console.print(
        f"{len(manifest.files)} 个文件 · files, {len(manifest.mistakes)} 处预设差错 · "
        f"planted mistakes ({errors} errors, {len(manifest.mistakes) - errors} warnings)"
    )


def org_sample(year: int, out: Path, org: str, seed: int) -> None:
    """`tally sample --org`: write every county's folder and print one line per county."""
    try:
        counties = write_org_inbox(year, out, org, seed)
    except UnknownOrgUnit as exc:
        raise typer.BadParameter(str(exc), param_hint="--org") from None
    table = Table(title=data(f"样例收件箱 · sample inbox {year} → {out}"))
    for heading, justify in (("县 · county", "left"), ("代码 · code", "left"), ("规模 · size", "right"),
                             ("文件 · files", "right"), ("数据行 · rows", "right"),
                             ("预设差错 · planted mistakes", "right")):
        table.add_column(heading, justify=justify)
    for c in counties:
        table.add_row(data(c.name_zh), c.code, f"{c.size:.2f}", str(len(c.manifest.files)),
                      str(sum(f.data_rows for f in c.manifest.files)), str(len(c.manifest.mistakes)))
    console.print(table)
    console.print(f"{len(counties)} 个县 · counties, {sum(len(c.manifest.files) for c in counties)} 个文件 · files")
