"""The org units of the active contract: which county a folder names, and who sits under whom.

The hierarchy is data (`org_units.toml`, checked by `flows.contract.spec`). A county bureau's
own inbox has no county folder: its rows belong to the bureau's own unit (`org_unit` in
tally.toml). A city's or a province's inbox has one folder per county above the ledger folders
(`<inbox>/<county>/<ledger>/<file>`), named by the county's code (`640422`), its name
(`西吉县`) or an alias; that folder is the file's scope.
"""

from __future__ import annotations

from flows.contract import spec
from flows.contract.spec import OrgUnit
from flows.errors import TallyError

DEFAULT_ORG_UNIT = "640422"  # 西吉县, the sample county whose 2024 report the project reproduces


_own: str | None = None  # the bureau's own unit as tally.toml says it (use_own), else the default


class UnknownOrgUnit(TallyError):
    """A code or a name that no org unit of the contract has."""


def units() -> dict[str, OrgUnit]:
    """Every org unit of the active contract, keyed by GB/T 2260 code, in file order."""
    return spec.active().org_units


def find(name: str) -> OrgUnit | None:
    """Return the unit whose code, Chinese name or alias is `name` (spaces around ignored), else None."""
    key = name.strip()
    for unit in units().values():
        if key in (unit.code, unit.name_zh, *unit.aliases):
            return unit
    return None


def resolve(name: str) -> OrgUnit:
    """Return the unit `name` names; raise UnknownOrgUnit saying where the units are listed."""
    unit = find(name)
    if unit is None:
        raise UnknownOrgUnit(f"未知的单位「{name}」：须为 org_units.toml 中的行政区划代码或名称（如 640422、西吉县）"
                             f" · unknown org unit {name!r}: use a GB/T 2260 code or name from org_units.toml")
    return unit


def ancestors(code: str) -> list[OrgUnit]:
    """The unit and every unit above it, nearest first (西吉县, 固原市, 宁夏回族自治区)."""
    chain, table = [], units()
    while code is not None and code in table:
        chain.append(table[code])
        code = table[code].parent
    return chain


def counties_under(code: str) -> list[OrgUnit]:
    """The counties at or under a unit, in file order (a county: itself)."""
    return [u for u in units().values() if u.level == "county" and any(a.code == code for a in ancestors(u.code))]


def county_of_scope(scope: str, own: str = DEFAULT_ORG_UNIT) -> str | None:
    """Return the county code a file's scope (the folders above its ledger folder) belongs to.

    No folder (''): the bureau's own unit `own`. Otherwise the first folder names the county
    (by code, name or alias); a folder that names no county gives None, so that the caller
    can say so rather than guess.
    """
    if scope == "":
        return own
    unit = find(scope.split("/")[0])
    return unit.code if unit is not None and unit.level == "county" else None


def use_own(code: str) -> None:
    """Set the bureau's own org unit for this process (from tally.toml's `org_unit`)."""
    global _own
    _own = code


def own() -> str:
    """The bureau's own org unit: tally.toml's `org_unit`, else the sample county (640422)."""
    return _own or DEFAULT_ORG_UNIT
