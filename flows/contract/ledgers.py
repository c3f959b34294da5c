"""The ledgers of the templates (台账模板), as loaded from the contract's `ledgers.toml`.

The contract is data (`flows/contract/data/ledgers.toml`, or a bureau's own folder and
overrides: `flows.contract.spec`); this module is its loaded view, kept in step with the
contract in use. Everything that reads, checks, stores or generates ledgers takes its column
names, headers and allowed values from `LEDGERS`.
"""

from __future__ import annotations

from flows.contract import spec
from flows.contract.spec import Column, ColumnType, Ledger, LedgerKind, Personal

__all__ = ["BY_FOLDER", "LEDGERS", "Column", "ColumnType", "Ledger", "LedgerKind", "Personal",
           "ledger_for_folder"]

# Filled from the contract in use, and refilled in place when another is put in use, so that
# every module holding these dicts sees the change.
LEDGERS: dict[str, Ledger] = {}
BY_FOLDER: dict[str, Ledger] = {}


def _refresh() -> None:
    ledgers = spec.active().ledgers
    LEDGERS.clear()
    LEDGERS.update(ledgers)
    BY_FOLDER.clear()
    BY_FOLDER.update({**LEDGERS, **{ledger.name_zh: ledger for ledger in LEDGERS.values()}})


_refresh()
spec.on_change(_refresh)


def ledger_for_folder(folder: str) -> Ledger | None:
    """Return the ledger whose code or Chinese name is this inbox folder's name."""
    return BY_FOLDER.get(folder.strip()) or BY_FOLDER.get(folder.strip().lower())
