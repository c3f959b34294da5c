"""The indicator catalog (`flows/contract/data/indicators.toml`) as typed records.

Every figure of the annual report: its names, unit, section, definition, the SQL model whose
rows make it, how those rows aggregate, how the report prints it, and what the 2024 report
printed. The SQL models read it as the `seed_indicator_catalog` table.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import polars as pl

from flows.contract import spec
from flows.contract.printed_form import Rendering, normalise_qualifier, render, to_decimal

CATALOG_FILE = Path(__file__).parent / "data" / "indicators.toml"
AGGREGATIONS = ("count", "sum", "distinct", "rate")


@dataclass(frozen=True)
class Published:
    """What a published report printed for one figure."""

    printed: str
    number: Decimal | None = None  # None when the report words it without a number
    qualifier: str = ""


@dataclass(frozen=True)
class Indicator:
    """One figure of the annual report."""

    code: str
    section: str
    name_zh: str
    name_en: str
    unit: str
    print_unit: str
    model: str
    ledgers: tuple[str, ...]  # the ledgers it is computed from: a year has data when all were submitted
    aggregation: str
    series: bool
    needs_snapshot: bool
    definition_zh: str
    definition_en: str
    rendering: Rendering
    published_2024: Published | None
    sort_order: int

    def render(self, value: object) -> str | None:
        """Render a value of this indicator as the report prints it."""
        return render(value, self.rendering, self.print_unit)


def _indicator(entry: dict, sort_order: int) -> Indicator:
    if entry["aggregation"] not in AGGREGATIONS:
        raise ValueError(f"{entry['code']}: unknown aggregation {entry['aggregation']!r}")
    rule = entry.get("rendering", {})
    published = entry.get("published_2024")
    return Indicator(
        code=entry["code"],
        section=entry["section"],
        name_zh=entry["name_zh"],
        name_en=entry["name_en"],
        unit=entry["unit"],
        print_unit=entry.get("print_unit", entry["unit"]),
        model=entry["model"],
        ledgers=tuple(entry.get("ledgers", ())),
        aggregation=entry["aggregation"],
        series=bool(entry.get("series", False)),
        needs_snapshot=bool(entry.get("needs_snapshot", False)),
        definition_zh=entry["definition_zh"],
        definition_en=entry["definition_en"],
        rendering=Rendering(
            qualifier=rule.get("qualifier", ""),
            wan=bool(rule.get("wan", False)),
            step=to_decimal(rule.get("step", 1)),
        ),
        published_2024=None
        if published is None
        else Published(
            printed=published["printed"],
            number=None if "number" not in published else to_decimal(published["number"]),
            qualifier=normalise_qualifier(published.get("qualifier", "")),
        ),
        sort_order=sort_order,
    )


def read_catalog(path: Path = CATALOG_FILE) -> dict[str, Indicator]:
    """Read an indicator catalog file into indicators keyed by code, in report order."""
    entries = tomllib.loads(path.read_text(encoding="utf-8"))["indicator"]
    catalog = {e["code"]: _indicator(e, i) for i, e in enumerate(entries, start=1)}
    if len(catalog) != len(entries):
        raise ValueError(f"{path}: an indicator code appears twice")
    return catalog


@lru_cache(maxsize=1)
def load_catalog() -> dict[str, Indicator]:
    """Return the indicator catalog of the contract in use (read once per contract)."""
    return read_catalog(spec.active().indicators_file)


spec.on_change(load_catalog.cache_clear)


def catalog_frame(catalog: dict[str, Indicator]) -> pl.DataFrame:
    """Return the catalog as the rows of the `seed_indicator_catalog` table."""
    items = list(catalog.values())
    return pl.DataFrame(
        {
            "code": [i.code for i in items],
            "sort_order": [i.sort_order for i in items],
            "section": [i.section for i in items],
            "name_zh": [i.name_zh for i in items],
            "name_en": [i.name_en for i in items],
            "unit": [i.unit for i in items],
            "model": [i.model for i in items],
            "aggregation": [i.aggregation for i in items],
            "series": [i.series for i in items],
            "needs_snapshot": [i.needs_snapshot for i in items],
            "definition_zh": [i.definition_zh for i in items],
            "definition_en": [i.definition_en for i in items],
            "qualifier": [i.rendering.qualifier for i in items],
            "in_wan": [i.rendering.wan for i in items],
            "step": [str(i.rendering.step) for i in items],
            "published_2024": [
                i.published_2024.printed if i.published_2024 else None for i in items
            ],
        },
        schema_overrides={"sort_order": pl.Int32},
    )
