"""Shared CLI pieces: settings from tally.toml with flag overrides, and table output formats."""

from __future__ import annotations

import enum
import json
import sys
import tomllib
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from ..config import Settings, load_settings
from ..errors import TallyError

console = Console(stderr=True)
out = Console(soft_wrap=True)

WarehouseOption = Annotated[
    Path | None, typer.Option("--warehouse", "-w", help="DuckDB 仓库文件 · warehouse file (default: tally.toml)")
]
InboxOption = Annotated[
    Path | None, typer.Option("--inbox", "-i", help="收件箱目录 · inbox folder (default: tally.toml)")
]
ConfigOption = Annotated[Path | None, typer.Option("--config", help="tally.toml to read")]


class TableFormat(enum.StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def settings(config: Path | None = None, **overrides) -> Settings:
    """Read tally.toml (or the one given) and apply the flags that were set; a bad file exits 2."""
    try:
        return load_settings(config).override(**overrides)
    except (TallyError, tomllib.TOMLDecodeError) as exc:
        console.print(f"[red]配置错误 · bad tally.toml:[/red] {exc}")
        raise typer.Exit(2) from exc


# A spreadsheet program runs a cell that starts like a formula; exports neutralise it.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Prefix text that a spreadsheet would read as a formula with a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Neutralise formula-like text in every string column of a frame."""
    exprs = [
        pl.when(pl.any_horizontal([pl.col(c).str.starts_with(p) for p in FORMULA_START])).then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c)).alias(c)
        for c, t in frame.schema.items() if t == pl.Utf8
    ]  # fmt: skip
    return frame.with_columns(exprs) if exprs else frame


def jsonable(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def emit(frame: pl.DataFrame, fmt: str, *, title: str | None = None) -> None:
    """Print a frame as a rich table, CSV (formula-safe) or JSON lines to stdout."""
    if fmt == "csv":
        flat = frame.with_columns(
            pl.col(c).list.join("、") for c, t in frame.schema.items() if isinstance(t, pl.List)
        )
        sys.stdout.write(safe_frame(flat).write_csv())
    elif fmt == "json":
        rows = [{k: jsonable(v) for k, v in row.items()} for row in frame.iter_rows(named=True)]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
    else:
        table = Table(title=title, show_lines=False)
        for col in frame.columns:
            table.add_column(col, overflow="fold")
        for row in frame.iter_rows():
            table.add_row(*["" if v is None else ("、".join(map(str, v)) if isinstance(v, list) else str(v)) for v in row])
        out.print(table)
