"""One meaning per option across the commands: `-o/--output` names a file, `--out-dir` a folder.

Before this, `-o` was `--output` (a file) in `indicators` and `explain` but `--out` in `report`,
`fill`, `problems` (a folder there) and `sample` (a folder). The old spellings keep working for
one release: each is a hidden option of its own that, when used, says on stderr what to write
instead, and then means what it meant.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from flows.cli.output import console, data, say

OutputOption = Annotated[Path | None, typer.Option(
    "--output", "-o", help="输出文件 · the file to write", show_default=False)]
OutDirOption = Annotated[Path | None, typer.Option(
    "--out-dir", help="输出文件夹 · the folder to write into", show_default=False)]
# Hidden: kept for one release so that scripts written for the old spelling still run.
OldOutOption = Annotated[Path | None, typer.Option("--out", hidden=True, show_default=False)]
OldShortOutOption = Annotated[Path | None, typer.Option("-o", hidden=True, show_default=False)]


def deprecated(old_value: Path | None, new_value: Path | None, old: str, new: str) -> Path | None:
    """Return the path given by the new spelling, or by the old one with a note on stderr.

    Both given and different: a usage error (exit 2), never a silent choice between them.
    """
    if old_value is None:
        return new_value
    say("提示 · deprecated:", f"{old} 已改名为 {new}，旧写法下一版本起不再可用 · {old} is deprecated, "
        f"use {new} (the old spelling goes in the next release)", style="yellow")
    if new_value is not None and new_value != old_value:
        raise typer.BadParameter(f"{old} 与 {new} 指向不同的路径（{old_value}、{new_value}），请只用 {new} · "
                                 f"give only {new}", param_hint=new)
    return old_value


def refuse_folder(path: Path | None, option: str = "--output") -> None:
    """Stop (exit 2, one line) when a file option names an existing folder: `--out-dir` takes folders."""
    if path is not None and str(path) != "-" and path.is_dir():
        say(f"参数错误 · bad {option}:", f"{path} 是文件夹，{option} 应为文件名；要写入文件夹请用 --out-dir "
            f"· {option} names a file; --out-dir names a folder")
        raise typer.Exit(2)


def refuse_table_output(path: Path | None, fmt: str) -> None:
    """Stop (exit 2, one line) when a file is asked for a terminal table, instead of ignoring it."""
    if path is not None and fmt == "table":
        say("参数错误 · bad --output:", f"表格只显示在屏幕上；要写入 {path}，请加 --format（如 csv、excel-csv、xlsx）"
            " · a table is for the screen: give --format to write a file")
        raise typer.Exit(2)


@contextlib.contextmanager
def stdout_to(path: Path | None):
    """Send what a command writes to stdout into a file (UTF-8, line ends as written), or leave it."""
    if path is None or str(path) == "-":
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle, contextlib.redirect_stdout(handle):
        yield
    console.print(data(f"已写入 · written: {path}"))
