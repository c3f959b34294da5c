"""Shared CLI pieces: settings from tally.toml with flag overrides, and table output formats."""

from __future__ import annotations

import contextlib
import json
import re
import sys
import tomllib
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import duckdb
import polars as pl
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from flows.contract.spec import ContractError
from flows.errors import TallyError
from flows.load.warehouse import connect
from flows.report.formula_safe import safe_frame
from flows.run.settings import (
    CONFIG_ENV,
    Settings,
    find_config,
    load_settings,
    use_settings_contract,
)

console = Console(stderr=True)
out = Console(soft_wrap=True)

WarehouseOption = Annotated[
    Path | None, typer.Option("--warehouse", "-w", help="DuckDB 仓库文件 · warehouse file (default: tally.toml)")
]
InboxOption = Annotated[
    Path | None, typer.Option("--inbox", "-i", help="收件箱目录 · inbox folder (default: tally.toml)")
]
ConfigOption = Annotated[Path | None, typer.Option(
    "--config", help="要读的 tally.toml（默认当前或上级文件夹的）· the tally.toml to read", show_default=False)]
ContractOption = Annotated[Path | None, typer.Option(
    "--contract", help="契约文件夹（默认 tally.toml 的 contract，或项目自带的）· contract folder", show_default=False)]


# Text from a spreadsheet, a path or a draft reaches the analyst's terminal: C0 and C1 control
# characters (ESC starts the sequences that recolour, retitle or rewrite a terminal), DEL and
# the bidirectional overrides are shown as escapes instead of being obeyed. Newlines and tabs
# are layout, and stay.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def visible(value: object) -> str:
    """Return a value's text with every terminal control character written as an escape."""
    text = "" if value is None else str(value)
    return CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def data(value: object, style: str = "") -> Text:
    """Return a value as rich Text that prints as written: no markup, no emoji, no control codes."""
    return Text(visible(value), style=style)


def say(label: str, value: object, *, style: str = "red", to: Console | None = None) -> None:
    """Print a styled label and then a message that may quote data, as plain text."""
    text = Text.assemble((label, style), " ", visible(value)) if label else data(value, style)
    (to or console).print(text, soft_wrap=True)  # one line, whole, for a log or a search


# The tally.toml this command read (None: none was found), for messages that say where tally
# looked. One command runs per process; each sets it before it opens anything.
consulted: dict[str, Path | None] = {"config": None}


def settings(config: Path | None = None, **overrides) -> Settings:
    """Read tally.toml (or the one given) and apply the flags that were set; a bad file exits 2."""
    consulted["config"] = config or find_config()
    try:
        loaded = load_settings(config).override(**overrides)
        if overrides.get("contract") is not None or overrides.get("contract_overrides") is not None:
            use_settings_contract(loaded)
        return loaded
    except (TallyError, tomllib.TOMLDecodeError) as exc:
        # The reason names its file (tally.toml, or the bureau's contract.toml): say which kind.
        say("契约错误 · bad contract:" if isinstance(exc, ContractError) else "配置错误 · bad tally.toml:", exc)
        raise typer.Exit(2) from exc


def looked_where(what: str, path: Path, flag: str) -> str:
    """Say where tally looked for a warehouse or an inbox that is not there, and what to do.

    Run from another folder, tally finds no tally.toml and falls back on its defaults
    (`warehouse/tally.duckdb` under the current folder): the message names that folder and the
    settings file it looked for, so that the fix (cd, or the flag) is plain.
    """
    config = consulted["config"]
    where = f"{what}不存在：{path.absolute()} · no {'warehouse' if flag == '--warehouse' else 'inbox'} there。"
    if config is None:
        return (f"{where}当前文件夹 {Path.cwd()} 及其上级中没有 tally.toml（也没有设 ${CONFIG_ENV}），"
                f"只能按默认设置找 · no tally.toml in {Path.cwd()} or above it, so the defaults were used。"
                f"请 cd 到本局放 tally.toml 的文件夹再运行，或用 {flag} PATH 指定（或 --config 指定 tally.toml）"
                f" · cd to the bureau's folder (the one holding tally.toml), or give {flag} PATH")
    return (f"{where}按 {config.absolute()} 的设置 · as {config.name} there says。"
            f"{'先运行 tally run 建立仓库，' if flag == '--warehouse' else '请建立该文件夹，'}"
            f"或用 {flag} PATH 指定 · {'run tally run first' if flag == '--warehouse' else 'create it'}, "
            f"or give {flag} PATH")


def open_reader(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-only, or exit saying why: 1 when there is none yet, 2 when it is unusable."""
    if not warehouse.exists():
        say("", looked_where("仓库文件", warehouse, "--warehouse"))
        raise typer.Exit(1)
    try:
        return connect(warehouse, read_only=True)
    except TallyError as exc:
        say("", exc)
        raise typer.Exit(1) from exc
    except duckdb.Error as exc:
        raise unreadable(warehouse, exc) from exc


def unreadable(warehouse: Path, exc: duckdb.Error) -> typer.Exit:
    """Say in one line that the warehouse cannot be read, and return exit 2 to raise."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    say("仓库无法读取 · cannot read the warehouse:",
        f"{warehouse}（文件损坏、不是 tally 的 DuckDB 仓库或无读取权限；请用 tally run 重建或从备份恢复）：{first}")
    return typer.Exit(2)


@contextlib.contextmanager
def reading(warehouse: Path):
    """Open the warehouse read-only for a reader command; a broken warehouse exits 2 in one line."""
    con = open_reader(warehouse)
    try:
        with con:
            yield con
    except duckdb.Error as exc:
        raise unreadable(warehouse, exc) from exc


def jsonable(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def emit(frame: pl.DataFrame, fmt: str, *, title: str | None = None) -> None:
    """Print a frame as a rich table, CSV (formula-safe; excel-csv for people) or JSON to stdout."""
    if fmt == "excel-csv":
        from flows.cli.exports import human_csv  # exports builds on this module

        sys.stdout.write(human_csv(frame))
    elif fmt == "csv":
        flat = frame.with_columns(
            pl.col(c).list.join("、") for c, t in frame.schema.items() if isinstance(t, pl.List)
        )
        sys.stdout.write(safe_frame(flat).write_csv())
    elif fmt == "json":
        rows = [{k: jsonable(v) for k, v in row.items()} for row in frame.iter_rows(named=True)]
        text = json.dumps(rows, ensure_ascii=False, indent=1)
        # json escapes C0 itself; C1 and the bidi overrides as \uXXXX too: the same data, inert.
        sys.stdout.write(CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")
    else:
        table = Table(title=None if title is None else data(title), show_lines=False)
        for col in frame.columns:
            table.add_column(data(col), overflow="fold")
        for row in frame.iter_rows():
            table.add_row(*[data("" if v is None else ("、".join(map(str, v)) if isinstance(v, list) else v)) for v in row])
        out.print(table)
