"""`tally contract check`: load the bureau's contract and say, with file and line, what is wrong."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from flows.cli.app import CONTEXT, app
from flows.cli.output import ConfigOption, ContractOption, console, data, out, say
from flows.contract.catalog import read_catalog
from flows.contract.spec import Contract, ContractError, load_contract
from flows.errors import TallyError
from flows.run.settings import load_settings
from flows.transform.models import discover
from flows.validate.suites import RULE_SETS, ledger_suite

contract_app = typer.Typer(
    help="台账与指标契约 · The bureau's contract.",
    no_args_is_help=True,
    context_settings=CONTEXT,
)
app.add_typer(contract_app, name="contract")

OverridesOption = Annotated[
    Path | None,
    typer.Option(
        "--overrides",
        help="本局的覆盖文件（默认 tally.toml 旁的 contract.toml）· the bureau's overrides file",
        show_default=False,
    ),
]


@contract_app.command("check")
def check_command(
    contract: ContractOption = None, overrides: OverridesOption = None, config: ConfigOption = None
) -> None:
    """检查契约 · Check the contract against its schema.

    The folder and the bureau's overrides; exit 1 naming each mistake's file and line.

    \b
    Example:
        tally contract check --contract tests/contracts/market_bureau
    """
    try:
        s = load_settings(config).override(contract=contract, contract_overrides=overrides)
        loaded = load_contract(s.contract, s.contract_overrides)
        problems = contract_problems(loaded)
    except ContractError as exc:
        problems = str(exc).splitlines()
    except TallyError as exc:
        say("配置错误 · bad tally.toml:", exc)
        raise typer.Exit(2) from exc
    if problems:
        for line in problems:
            console.print(data(line), soft_wrap=True)  # one whole line each: file:line, for grep
        raise typer.Exit(1)
    catalog = read_catalog(loaded.indicators_file)
    over = f"，覆盖文件 {loaded.overrides}" if loaded.overrides else ""
    out.print(  # the answer, on stdout: problems and failures go to stderr
        data(
            f"契约无误 · contract OK：{loaded.folder}{over}；{len(loaded.ledgers)} 个台账、"
            f"{len(catalog)} 个指标、{len(loaded.sections)} 个章节"
        ),
        soft_wrap=True,
    )


def contract_problems(contract: Contract) -> list[str]:
    """What the schema cannot see: rule sets, the catalog, sections and the SQL models it names."""
    problems: list[str] = []
    ledgers_file = contract.folder / "ledgers.toml"
    text = ledgers_file.read_text(encoding="utf-8")
    for ledger in contract.ledgers.values():
        for name in ledger.rules:
            if name not in RULE_SETS:
                problems.append(
                    f"{ledgers_file}:{line_of(text, name, ledger.code)}: {ledger.code}.rules：未知的规则集 "
                    f"{name}（可用：{'、'.join(RULE_SETS)}）· unknown rule set"
                )
                continue
            try:
                ledger_suite(ledger)
            except KeyError as exc:
                problems.append(
                    f"{ledgers_file}:{line_of(text, name, ledger.code)}: {ledger.code}.rules：规则集 {name}"
                    f" 需要列 {exc.args[0]}，本台账没有 · the rule set needs a column this ledger lacks"
                )
    indicators_file = contract.indicators_file
    try:
        catalog = read_catalog(indicators_file)
    except FileNotFoundError:
        return [*problems, f"{indicators_file}: 指标文件不存在 · indicators.toml not found"]
    except (KeyError, ValueError, TypeError) as exc:
        return [*problems, f"{indicators_file}: 指标定义有误 · bad indicator: {exc}"]
    itext = indicators_file.read_text(encoding="utf-8")
    models = discover(contract.models_dir)
    for code, indicator in catalog.items():
        where = f"{indicators_file}:{line_of(itext, code)}"
        if indicator.section not in contract.sections:
            problems.append(
                f"{where}: {code}.section：章节 {indicator.section} 不在 sections.toml 中"
                f"（可用：{'、'.join(contract.sections)}）· unknown section"
            )
        unknown = [x for x in indicator.ledgers if x not in contract.ledgers]
        if not indicator.ledgers or unknown:
            problems.append(
                f"{where}: {code}.ledgers：应列出计算所用的台账（可用：{'、'.join(contract.ledgers)}）"
                f"{'，未知：' + '、'.join(unknown) if unknown else ''} · the ledgers it is computed from"
            )
        if indicator.model not in models:
            problems.append(
                f"{where}: {code}.model：SQL 模型 {indicator.model} 不在 {contract.models_dir} 中"
                " · no such SQL model"
            )
    return problems


def line_of(text: str, value: str, after: str | None = None) -> int:
    """Return the 1-based line where `"value"` is first written (after the line naming `after`)."""
    lines = text.splitlines()
    start = 0
    if after is not None:
        for i, line in enumerate(lines):
            if re.match(r'^\s*code\s*=\s*"' + re.escape(after) + '"', line):
                start = i
                break
    for i in range(start, len(lines)):
        if f'"{value}"' in lines[i]:
            return i + 1
    return start + 1
