"""`--version`, `-h` and bilingual help on the app and on every command."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from flows.cli import app
from flows.cli.app import version_text

CHINESE = re.compile(r"[\u4e00-\u9fff]")
ENGLISH = re.compile(r"[A-Za-z]{3,}")


def commands(group, path=()) -> list[tuple[tuple[str, ...], object]]:
    """Every command of the tree, groups included, with the words that invoke it."""
    found = [(path, group)]
    for name, sub in getattr(group, "commands", {}).items():
        found += commands(sub, (*path, name))
    return found


ALL = commands(typer.main.get_command(app))
IDS = [" ".join(p) or "tally" for p, _ in ALL]


def test_the_tree_holds_every_command():
    assert {"run", "files", "runs", "explain", "indicators", "problems", "report", "sample",
            "contract check"} <= set(IDS)


@pytest.mark.parametrize(("path", "command"), ALL, ids=IDS)
def test_version_and_short_help_everywhere(path, command):
    runner = CliRunner()
    version = runner.invoke(app, [*path, "--version"])
    assert version.exit_code == 0 and version.stdout.strip() == version_text()
    assert re.fullmatch(r"tally \d+\.\d+\.\d+.*", version_text())
    short, long = runner.invoke(app, [*path, "-h"]), runner.invoke(app, [*path, "--help"])
    assert short.exit_code == 0 and short.stdout == long.stdout
    assert "Usage:" in short.stdout and "显示本帮助并退出" in short.stdout


@pytest.mark.parametrize(("path", "command"), ALL, ids=IDS)
def test_help_is_chinese_with_english_beside(path, command):
    summary = (command.help or "").strip().splitlines()[0]
    assert CHINESE.search(summary) and ENGLISH.search(summary) and " · " in summary, summary
    for param in command.params:
        if getattr(param, "hidden", False):
            continue  # the old spellings, kept for one release
        text = getattr(param, "help", None) or ""
        assert CHINESE.search(text) and ENGLISH.search(text), f"{' '.join(path)} {param.name}: {text!r}"


@pytest.mark.parametrize(("path", "command"), ALL, ids=IDS)
def test_help_is_whole_at_80_columns(path, command):
    """Nothing is cut short: each description is there in full, Chinese and English."""
    shown = CliRunner().invoke(app, [*path, "-h"], terminal_width=80).stdout
    flat = re.sub(r"\s+", "", shown)
    for param in command.params:
        if not getattr(param, "hidden", False) and getattr(param, "help", None):
            assert re.sub(r"\s+", "", param.help) in flat, param.help
    for name, sub in getattr(command, "commands", {}).items():
        summary = sub.help.strip().splitlines()[0]
        assert re.sub(r"\s+", "", summary) in flat, f"{name}: {summary}"
