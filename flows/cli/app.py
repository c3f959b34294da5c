"""The Typer application that every command module registers on, and its lazily loading group.

`tally` imports a command's module only when that command is called: `COMMANDS` names each
command's module, in the order `tally --help` lists them. A module imported for one command
pulls in only what that command needs (`tally run` does not import the report writers, the
sample generator or pandas), and typer builds the parameters of the commands called, not of
all of them. `tally --help`, the completion of names and the suggestion for an unknown name
read `COMMANDS` (the help and the completion then load the commands they show); `load_all`
imports every module, for what reads `app.registered_commands`.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Iterator, MutableMapping
from importlib import metadata
from typing import TYPE_CHECKING, Annotated

import typer
import typer.main
from typer.core import TyperGroup

if TYPE_CHECKING:
    from typer import _click as click  # the click that typer carries (it imports no other)

# Every command of `tally` and the module that registers it, in the order `tally --help` lists
# them (the order they were registered in when `flows.cli` imported every module). A command
# module added here must register the commands named for it (tests/cli/test_lazy_commands.py).
COMMANDS = {
    "signoff": "flows.cli.signoff_commands",
    "indicators": "flows.cli.indicator_commands",
    "explain": "flows.cli.indicator_commands",
    "run": "flows.cli.ingest_commands",
    "files": "flows.cli.ingest_commands",
    "rekey": "flows.cli.key_commands",
    "problems": "flows.cli.problem_commands",
    "completeness": "flows.cli.problem_commands",
    "report": "flows.cli.report_commands",
    "check-draft": "flows.cli.report_commands",
    "fill": "flows.cli.report_commands",
    "serve": "flows.cli.run_commands",
    "runs": "flows.cli.run_commands",
    "sample": "flows.cli.sample_commands",
    "contract": "flows.cli.contract_commands",
}

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
    """The `tally` group: loads a command when it is called; every command answers `--version`.

    `commands` is a mapping over every name of `COMMANDS` (`LazyCommands`): looking a name up
    imports its module and builds the command, so the whole of typer and click (resolving the
    command, `tally --help`, the completion, "Did you mean") works unchanged, on what it asks for.
    """

    def __init__(self, **attrs) -> None:
        super().__init__(**attrs)
        # Typer builds the flag from the app's callback; each command gets a copy that its own
        # function never receives (the flag prints and exits before the command runs).
        flag = next((p for p in self.params if p.name == "version"), None)
        self.hidden_version = None
        if flag is not None:
            self.hidden_version = copy.copy(flag)
            self.hidden_version.expose_value = False
            bilingual_help(self)
        built = dict(self.commands)  # the commands of the modules imported so far
        for command in built.values():
            self.dress(command)
        self.commands = LazyCommands(self, built)

    def dress(self, command: click.Command) -> click.Command:
        """Give a command the app's hidden `--version` and the bilingual help line."""
        if self.hidden_version is not None:
            with_version(command, self.hidden_version)
        return command

    def load(self, name: str) -> click.Command | None:
        """Import the module of the command `name` and build it as typer would (None: no such command)."""
        module = COMMANDS.get(name)
        if module is None:
            return None
        importlib.import_module(module)
        command = built_command(name)
        return None if command is None else self.dress(command)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Return the commands' names in their order, loading none of them."""
        return list(self.commands)


class LazyCommands(MutableMapping):
    """The `tally` group's commands by name: every name of `COMMANDS`, each built when first looked up."""

    def __init__(self, group: TallyGroup, built: dict[str, click.Command]) -> None:
        self.group = group
        self.built = built

    def __getitem__(self, name: str) -> click.Command:
        if name not in self.built:
            command = self.group.load(name)
            if command is None:
                raise KeyError(name)
            self.built[name] = command
        return self.built[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self.built[name] = command

    def __delitem__(self, name: str) -> None:
        del self.built[name]

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (name for name in self.built if name not in COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS) + sum(name not in COMMANDS for name in self.built)

    def __contains__(self, name: object) -> bool:
        return name in COMMANDS or name in self.built


def built_command(name: str) -> click.Command | None:
    """Build the click command (or group) registered on `app` as `name`, as typer builds the app's."""
    for info in app.registered_commands:
        if (info.name or typer.main.get_command_name(info.callback.__name__)) == name:
            return typer.main.get_command_from_info(
                info, pretty_exceptions_short=app.pretty_exceptions_short, rich_markup_mode=app.rich_markup_mode)
    for info in app.registered_groups:
        if info.name == name:
            return typer.main.get_group_from_info(
                info, pretty_exceptions_short=app.pretty_exceptions_short, rich_markup_mode=app.rich_markup_mode,
                suggest_commands=app.suggest_commands)
    return None


def load_all() -> typer.Typer:
    """Import every command module, so that `app.registered_commands` holds every command; return `app`."""
    for module in dict.fromkeys(COMMANDS.values()):
        importlib.import_module(module)
    return app


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
