"""`tally rekey`: recompute every keyed hash of the warehouse under a new key, on purpose."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from flows.cli.app import app
from flows.cli.output import ConfigOption, InboxOption, WarehouseOption, console, settings
from flows.errors import TallyError
from flows.publish.swap import RunInProgress

KeyFileOption = Annotated[
    Path | None,
    typer.Option("--key-file", help="新密钥所在的文件（不设则随机生成；设了 TALLY_HASH_KEY 时用它）· "
                 "file holding the new key (default: a fresh random key; $TALLY_HASH_KEY wins when set)"),
]


@app.command("rekey")
def rekey_command(inbox: InboxOption = None, warehouse: WarehouseOption = None, key_file: KeyFileOption = None,
                  wait: Annotated[float, typer.Option("--wait", help="等待进行中运行的秒数 · seconds to wait "
                                                      "for a run in progress")] = 0.0,
                  config: ConfigOption = None) -> None:
    """换密钥重算哈希 · Recompute every keyed hash under a new key.

    Re-reads the loaded files from the inbox.

    Use it when the key is lost or must change. Every loaded file must still be in the inbox
    with the content it was loaded with (its sha256 is checked): the clear values are not in
    the warehouse. The new key is written beside the warehouse (unless $TALLY_HASH_KEY is set,
    which is then the new key).

    \b
    Example:
        tally rekey --inbox inbox --warehouse warehouse/tally.duckdb
    """
    from flows.run.rekey import rekey  # the parsing stack only for this command

    s = settings(config, inbox=inbox, warehouse=warehouse)
    try:
        result = rekey(s.inbox, s.warehouse, key_file=key_file, lock_wait=wait)
    except RunInProgress as exc:
        console.print(f"[yellow]{escape(str(exc))}[/yellow]")
        raise typer.Exit(75) from exc
    except TallyError as exc:
        console.print(f"[red]未重算 · not re-keyed:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    where = f"新密钥已写入 {result.key_file}" if result.key_file else "新密钥即环境变量 TALLY_HASH_KEY"
    console.print(
        f"已用新密钥重算哈希：重读 {result.files} 个文件、{result.versions} 个文件版本、{result.rows} 行；"
        f"执法人员姓名哈希 {result.name_rows} 行；{where}（指纹 {result.fingerprint}）。"
        f" · Re-keyed {result.rows} rows from {result.files} files; key fingerprint {result.fingerprint}."
    )
