"""Ledgers and indicators named as a person names them: by code or by Chinese name.

The inbox already takes a ledger's folder by its code (`inspections`) or its Chinese name
(`执法检查台账`); every command that takes a ledger or an indicator takes both too, and an
unknown name is answered with the closest names, each in Chinese with its code.
"""

from __future__ import annotations

import difflib

import typer

from flows.contract.catalog import load_catalog
from flows.contract.ledgers import LEDGERS
from flows.errors import TallyError

SUGGESTIONS = 5


class UnknownName(TallyError):
    """A ledger or indicator name that is neither a code nor a Chinese name of the contract."""


def closest(text: str, names: dict[str, str], n: int = SUGGESTIONS) -> list[str]:
    """Return up to n codes whose code or Chinese name is closest to text, best first.

    A name that holds the text, or that the text holds (`罚款` in `行政处罚罚款`), comes first;
    then difflib's ratio on the code and the Chinese name, whichever is higher.
    """
    key = text.strip().lower()

    def score(code: str) -> float:
        zh = names[code]
        held = bool(key) and (key in zh.lower() or zh.lower() in key or key in code.lower())
        ratio = max(difflib.SequenceMatcher(None, key, code.lower()).ratio(),
                    difflib.SequenceMatcher(None, key, zh.lower()).ratio())
        return ratio + (1.0 if held else 0.0)

    ranked = sorted(names, key=score, reverse=True)
    return [code for code in ranked if score(code) >= 0.3][:n]


def resolve(text: str, names: dict[str, str], kind_zh: str, kind_en: str) -> str:
    """Return the code that text names (a code, any case, or a Chinese name); raise UnknownName.

    `names`: code -> Chinese name, as the contract gives them. The message lists the closest
    names as `中文名（code）`, so that the next try can be either.
    """
    given = text.strip()
    if given in names:
        return given
    for code, zh in names.items():
        if given == zh or given.lower() == code.lower():
            return code
    near = closest(given, names)
    listed = "、".join(f"{names[c]}（{c}）" for c in near) if near else "无"
    raise UnknownName(f"未知的{kind_zh}：{given} · unknown {kind_en}；最接近的 · closest: {listed}")


def ledger_names() -> dict[str, str]:
    """Return the ledgers of the contract in use: code -> Chinese name."""
    return {code: ledger.name_zh for code, ledger in LEDGERS.items()}


def indicator_names() -> dict[str, str]:
    """Return the indicators of the contract in use: code -> Chinese name, in report order."""
    return {code: entry.name_zh for code, entry in load_catalog().items()}


def ledger_code(text: str, hint: str = "--ledger") -> str:
    """Return the ledger code that text names, or stop with a usage error (exit 2) naming the closest."""
    try:
        return resolve(text, ledger_names(), "台账", "ledger")
    except UnknownName as exc:
        raise typer.BadParameter(str(exc), param_hint=hint) from exc


def indicator_code(text: str, hint: str = "INDICATOR") -> str:
    """Return the indicator code that text names, or stop with a usage error (exit 2) naming the closest."""
    try:
        return resolve(text, indicator_names(), "指标", "indicator")
    except UnknownName as exc:
        raise typer.BadParameter(str(exc), param_hint=hint) from exc
