"""The Typer application that every command module registers on."""

from __future__ import annotations

import copy
from importlib import metadata
from typing import Annotated

import typer
from typer.core import TyperGroup

# `-h` beside `--help`: click hands the names down to every command's context.
CONTEXT = {"help_option_names": ["-h", "--help"]}


def version_text() -> str:
    """Return `tally <version>` as the installed package's metadata gives it."""
    try:
        return f"tally {metadata.version('tally')}"
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "tally (未安装 · not installed)"


def show_version(value: bool) -> None:
    """Print the version and stop, before any other option is read (an eager flag)."""
    if value:
        typer.echo(version_text())
        raise typer.Exit()


VersionOption = Annotated[bool, typer.Option(
    "--version", is_eager=True, callback=show_version, help="显示版本并退出 · show the version and exit")]


HELP_TEXT = "显示本帮助并退出 · show this help and exit"


def bilingual_help(command) -> None:
    """Say the help flag's own line in Chinese too (click builds that option with English text only)."""
    built = command.get_help_option

    def get_help_option(ctx):
        option = built(ctx)
        if option is not None:
            option.help = HELP_TEXT
        return option

    command.get_help_option = get_help_option


def with_version(command, flag) -> None:
    """Give a command (and a group's commands, all the way down) the app's `--version` flag."""
    if not any(p.name == "version" for p in command.params):
        command.params.append(flag)
    bilingual_help(command)
    for sub in getattr(command, "commands", {}).values():
        with_version(sub, flag)


class TallyGroup(TyperGroup):
    """The `tally` group: every command it holds answers `--version`, as the group itself does."""

    def __init__(self, **attrs) -> None:
        super().__init__(**attrs)
        # Typer builds the flag from the app's callback; each command gets a copy that its own
        # function never receives (the flag prints and exits before the command runs).
        flag = next((p for p in self.params if p.name == "version"), None)
        if flag is not None:
            hidden_value = copy.copy(flag)
            hidden_value.expose_value = False
            for sub in self.commands.values():
                with_version(sub, hidden_value)
            bilingual_help(self)


app = typer.Typer(
    name="tally",
    cls=TallyGroup,
    help="台账 → 年度报告数据 · Ledgers in, validated report figures out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings=CONTEXT,
    # Plain help, as click writes it: rich's option table cuts Chinese help short with "…"
    # (a run of Chinese has no space for it to wrap at), and help must be read whole.
    rich_markup_mode=None,
)


@app.callback()
def main(version: VersionOption = False) -> None:
    """台账 → 年度报告数据 · Ledgers in, validated report figures out."""
