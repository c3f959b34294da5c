"""The Typer application that every command module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="tally",
    help="台账 → 年度报告数据 · Ledgers in, validated report figures out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
