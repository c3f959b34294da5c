"""`tally signoff`, and what moved since (`tally indicators --changes-since-signoff`).

A city or a province signs off each county's figures of a year before it prints its own: the
figures are pinned to the lake's snapshot (`flows.run.signoff`). Later resubmissions still
load; the signed figures stay as signed, and `tally indicators --org CODE --year Y
--changes-since-signoff` lists what moved since.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import polars as pl
import typer
from rich.table import Table

from flows.cli.app import app
from flows.cli.output import ConfigOption, data, jsonable, out, say, settings
from flows.contract.org_units import UnknownOrgUnit
from flows.errors import TallyError
from flows.load.lake import Lake
from flows.load.warehouse import DISPLAY_TIMEZONE
from flows.run import signoff
from flows.run.settings import Settings
from flows.transform.indicators import value_text

OrgOption = Annotated[str | None, typer.Option(
    "--org", help="县区（行政区划代码或名称，如 640422、西吉县）· the county (GB/T 2260 code or name)",
    show_default=False)]
ChangesOption = Annotated[bool, typer.Option(
    "--changes-since-signoff",
    help="列出自签核以来变动的指标和文件（需 --org，湖仓）· list the figures and files that changed "
         "since the county's sign-off (needs --org and a lake)")]


def local_time(moment: datetime) -> str:
    """A moment as the bureau reads it: its time zone (tally.toml), to the second."""
    return moment.astimezone(ZoneInfo(DISPLAY_TIMEZONE[0])).strftime("%Y-%m-%d %H:%M:%S")


def shown(value: object, unit: str | None, reported: bool | None = True) -> str:
    """A figure as the tables show it: with its unit; `—` when not reported or undefined."""
    if reported is False or value is None:
        return "—"
    return f"{value_text(value, unit or '')}{unit or ''}"


def lake_of(s: Settings) -> Lake:
    """The lake tally.toml names; TallyError when `warehouse` is a county's single file."""
    if s.lake is None or s.lake_data_path is None:
        raise TallyError("tally.toml 的 warehouse 不是湖仓（ducklake:postgres:…）：签核只用于市、区汇总各县的湖仓"
                         " · sign-off needs a lake warehouse in tally.toml")
    return Lake(s.lake, s.lake_data_path)


def refuse(exc: TallyError, option: str = "--org") -> typer.Exit:
    """Say why in one line; a wrong name of a unit is a wrong option (exit 2), the rest exit 1."""
    if isinstance(exc, UnknownOrgUnit):
        raise typer.BadParameter(str(exc), param_hint=option) from exc
    say("失败 · failed:", exc)
    return typer.Exit(1)


@app.command("signoff")
def signoff_command(
    org: Annotated[str, typer.Option(
        "--org", help="签核的县区（行政区划代码或名称，如 640422、西吉县）· the county to sign off "
                      "(GB/T 2260 code or name)")],
    year: Annotated[int, typer.Option("--year", "-y", help="签核年度 · the year to sign off")],
    by: Annotated[str | None, typer.Option(
        "--by", help="签核人（默认当前登录用户名）· who signs (default: the login name)", show_default=False)] = None,
    verify: Annotated[bool, typer.Option(
        "--verify", help="不签核，只复核现行签核：按签核快照重算，与存档的数字比对 · do not sign: rebuild the "
                         "sign-off in force at its snapshot and compare with the stored figures")] = False,
    config: ConfigOption = None,
) -> None:
    """签核县区年度数字 · Sign off a county's figures of a year.

    Pins the county's figures of the year to the lake's current snapshot, as an appended
    sign-off: later resubmissions still load, the signed figures stay reproducible, and a
    city's figures read them. Signing again supersedes the earlier sign-off; both are kept.

    \b
    Example:
        tally signoff --org 640422 --year 2024 --by 张三
        tally signoff --org 640422 --year 2024 --verify
        tally indicators --org 西吉县 --year 2024 --changes-since-signoff
    """
    s = settings(config)
    if verify:
        verify_signoff(s, org, year)
        return
    try:
        done = signoff.sign(lake_of(s), org, year, signed_by=by)
    except TallyError as exc:
        raise refuse(exc) from exc
    reported = done.figures.filter(pl.col("reported")).height
    out.print(data(f"已签核 · signed off: {done.county_zh} {year} 年，湖仓快照 lake snapshot {done.snapshot_id}，"
                   f"签核人 {done.signed_by}，{local_time(done.signed_at)}；{done.figures.height} 项指标，"
                   f"其中已报送 {reported} 项"))
    if done.supersedes is not None:
        earlier = next((h for h in signoff.history(lake_of(s), done.county, year) if h[0] == done.supersedes), None)
        if earlier is not None:
            _, snapshot, signed_at, signed_by, _ = earlier
            same = "，数字与上次相同" if done.same_as_superseded else "，数字有变动"
            out.print(data(f"取代 {local_time(signed_at)} {signed_by} 的签核（快照 {snapshot}）{same}，两次签核均保留"
                           f" · supersedes the earlier sign-off, both kept"))


def verify_signoff(s: Settings, org: str, year: int) -> None:
    """`tally signoff --verify`: rebuild the sign-off in force at its snapshot; exit 1 naming each figure that differs."""
    try:
        kept, rebuilt = signoff.reproduce(lake_of(s), org, year)
    except TallyError as exc:
        raise refuse(exc) from exc
    head = f"{kept.county_zh} {year} 年 {local_time(kept.signed_at)} {kept.signed_by} 的签核（湖仓快照 {kept.snapshot_id}）"
    if rebuilt.equals(kept.figures):
        out.print(data(f"复核一致 · reproduced: {head}，按该快照重算的 {rebuilt.height} 项指标与存档完全相同"))
        return
    differing = kept.figures.join(rebuilt, on="code", how="full", suffix="_rebuilt", coalesce=True)
    columns = [c for c in kept.figures.columns if c != "code"]
    for r in differing.iter_rows(named=True):
        moved = [f"{c} {r[c]} → {r[c + '_rebuilt']}" for c in columns if r[c] != r[c + "_rebuilt"]]
        if moved:
            say("", f"  {r['code']}：" + "；".join(moved))
    say("复核不一致 · not reproduced:", f"{head}：按该快照重算的数字与存档不同（快照已过期，或 SQL 模型已改动）")
    raise typer.Exit(1)


def show_changes(s: Settings, org: str | None, year: int, fmt: str, *, asked: bool = True,
                 output: Path | None = None) -> None:
    """`tally indicators --org CODE --year Y --changes-since-signoff`: print what moved since the sign-off.

    `asked`: whether --changes-since-signoff was given (--org alone is refused here); `output`
    (-o) is refused. A table (default) or JSON (`--format json`: the sign-off, the figures and the files). Exits
    2 without --org, with an unknown unit or another format; 1 when there is no lake, the county
    was never signed, or nothing is submitted for the year.
    """
    if not asked:  # until `tally indicators --org` shows an org's figures, --org serves this listing only
        raise typer.BadParameter("--org 须与 --changes-since-signoff 一起用 · --org needs --changes-since-signoff",
                                 param_hint="--org")
    if org is None:
        raise typer.BadParameter("--changes-since-signoff 须与 --org 一起用 · needs --org", param_hint="--org")
    if output is not None:  # never written to a file in silence: it prints, and `>` redirects it
        raise typer.BadParameter("--changes-since-signoff 只输出到屏幕（可用 > 重定向）· prints to stdout only",
                                 param_hint="--output")
    if fmt not in ("table", "json"):
        raise typer.BadParameter("--changes-since-signoff 只输出 table 或 json · table or json only",
                                 param_hint="--format")
    try:
        changes = signoff.changes_since_signoff(lake_of(s), org, year)
    except TallyError as exc:
        raise refuse(exc) from exc
    signed = changes.signoff
    if fmt == "json":
        body = {"county": signed.county, "year": year, "signoff_id": signed.signoff_id,
                "signed_snapshot": signed.snapshot_id, "signed_at": signed.signed_at.isoformat(),
                "signed_by": signed.signed_by, "current_snapshot": changes.current_snapshot,
                "figures": [{k: jsonable(v) for k, v in r.items()} for r in changes.figures.iter_rows(named=True)],
                "files": [{k: jsonable(v) for k, v in r.items()} for r in changes.files.iter_rows(named=True)]}
        sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=1) + "\n")
        return
    out.print(data(f"{signed.county_zh} {year} 年：{local_time(signed.signed_at)} 由 {signed.signed_by} 签核"
                   f"（湖仓快照 {signed.snapshot_id}），当前快照 {changes.current_snapshot}"))
    if changes.unchanged:
        out.print(data("自签核以来没有变化：各项指标与签核时相同，也没有新报送的文件 · nothing changed since the sign-off"))
        return
    if changes.figures.is_empty():
        out.print(data("指标均与签核时相同 · no figure changed"))
    else:
        grid = Table(title=data(f"自签核以来变动的指标（{changes.figures.height} 项）· figures changed since the sign-off"))
        for header in ("指标 indicator", "签核值 signed", "当前值 current", "变动 change"):
            grid.add_column(header, overflow="fold")
        for r in changes.figures.iter_rows(named=True):
            change = "—" if r["change"] is None or not (r["signed_reported"] and r["current_reported"]) else (
                ("+" if r["change"] > 0 else "") + shown(r["change"], r["unit"]))
            grid.add_row(data(f"{r['name_zh']}\n{r['code']}"),
                         data(shown(r["signed_value"], r["unit"], r["signed_reported"])),
                         data(shown(r["current_value"], r["unit"], r["current_reported"])), data(change))
        out.print(grid)
    if changes.files.is_empty():
        out.print(data("签核后没有收到该年度的新文件 · no file of the year came in since the sign-off"))
        return
    # A file per line, never cut: a path is what the clerk searches the inbox for.
    out.print(data(f"签核后收到的文件（{changes.files.height} 个）· files received since the sign-off:"))
    status_zh = {"loaded": "已载入", "unchanged": "未变", "superseded": "已被替换", "rejected": "退回"}
    for r in changes.files.iter_rows(named=True):
        facts = [f"{r['ledger_zh'] or r['ledger'] or '（未识别台账）'} {r['period'] or ''}".rstrip(),
                 status_zh.get(r["status"], r["status"]) + ("" if r["rows_loaded"] is None else f" {r['rows_loaded']} 行"),
                 f"收到 {local_time(r['seen_at'])}"]
        if r["replaced_path"]:
            facts.append(f"取代 {r['replaced_path']}")
        if r["status"] == "rejected" and r["reason"]:
            facts.append(f"原因：{r['reason']}")
        out.print(data(f"  {r['path']}"))
        out.print(data(f"    {' · '.join(facts)}"))
    out.print(data("签核的数字不变；如需以当前数字为准，请重新签核：tally signoff --org "
                   f"{signed.county} --year {year} · the signed figures stand until signed again"))
