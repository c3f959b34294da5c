"""A sample inbox for a city or a province: one folder per county, each with figures of its own.

A city (固原市) or the province (宁夏) consolidates its counties' ledgers (issue 17). Its sample
inbox is `<out>/<county code>/<ledger>/<file>`, each county's folder written by the single
county's generator (`write_sample_inbox`), so every county's files are as messy, and carry
the same planted mistakes, as the single sample's. What differs is the figures: each county
has a size (how much its bureau does in a year, relative to 西吉县's published 2024 year) and
every row count and amount is drawn around that size, so counties differ in their totals and
in their rates. Everything is deterministic in the year, the seed and the county's code, so a
county's folder is the same in a city's and in the province's sample. The sample county itself
(西吉县, 640422) at the default seed keeps its published figures: its folder is the single
sample, byte for byte.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flows.contract import org_units
from flows.sample.inbox import SampleManifest, write_sample_inbox
from flows.sample.truth import DEFAULT_SEED, ROUNDING, STEADY, Targets, targets_for

# A county's size: how its year compares with 西吉县's (1.0). Ningxia's counties range from
# mountain counties of ~100k people to Yinchuan's districts of ~400k; a bureau's caseload
# follows its venues more than its people, so the spread is kept narrower than the population's.
SIZE_RANGE = (0.5, 1.8)
JITTER = 0.15  # each figure of a county varies ±15% around its size: rates differ, not only totals


@dataclass(frozen=True)
class CountySample:
    """One county's folder of an org sample: its code, name, size and what was written."""

    code: str
    name_zh: str
    size: float
    manifest: SampleManifest


def county_rng(code: str, seed: int) -> np.random.Generator:
    """The random generator of one county's figures: the same for the same code and seed."""
    return np.random.default_rng([seed, int(code), 17])


def county_seed(code: str, seed: int = DEFAULT_SEED) -> int:
    """The seed the county's rows are drawn with: `seed` itself for the sample county, else one of its own."""
    if code == org_units.DEFAULT_ORG_UNIT:
        return seed
    return int(county_rng(code, seed).integers(1, 2**31))


def county_size(code: str, seed: int = DEFAULT_SEED) -> float:
    """How big a county's year is beside the sample county's (1.0 for 西吉县), in SIZE_RANGE."""
    if code == org_units.DEFAULT_ORG_UNIT:
        return 1.0
    low, high = SIZE_RANGE
    rng = county_rng(code, seed + 1)
    return round(float(np.exp(rng.uniform(np.log(low), np.log(high)))), 2)


def county_targets(year: int, code: str, seed: int = DEFAULT_SEED) -> Targets:
    """A county's row counts and amounts for a year: the year's own, scaled by its size and varied.

    The sample county at the default seed keeps the year's own (for 2024, the published
    figures). Counts of people and incidents (`STEADY`) stay as they are; amounts are drawn
    in the round steps clerks write them in (`ROUNDING`); the same consistency rules as
    `targets_for` hold (person-times cover the inspections, tasks no more than their rows).
    """
    base = targets_for(year, seed)
    if code == org_units.DEFAULT_ORG_UNIT and seed == DEFAULT_SEED:
        return base
    size = county_size(code, seed)
    rng = county_rng(code, seed + 2)
    values = dataclasses.asdict(base)
    for name, value in values.items():
        if name in STEADY or not value:
            continue
        step = ROUNDING.get(name, 1)
        values[name] = max(step, round(value * size * rng.uniform(1 - JITTER, 1 + JITTER) / step) * step)
    ratio = values["venue_inspections"] / base.venue_inspections
    values["person_times"] = round(base.person_times * ratio * rng.uniform(0.97, 1.03))
    values["campaigns"] = min(values["campaigns"], values["campaign_rows"])
    values["joint_tasks"] = min(values["joint_tasks"], values["joint_rows"])
    values["random_tasks"] = min(values["random_tasks"], values["random_rows"])
    values["person_times"] = max(values["person_times"], values["venue_inspections"] + values["online_patrols"])
    return Targets(**values)


def write_org_inbox(year: int, out: Path, org: str, seed: int = DEFAULT_SEED) -> list[CountySample]:
    """Write a sample inbox for every county at or under `org` (a code or name) into `out/<county code>/`.

    Returns one CountySample per county, in the order of org_units.toml; each manifest's
    paths are relative to the county's folder. Raises UnknownOrgUnit for a name no unit has.
    """
    unit = org_units.resolve(org)
    written = []
    for county in org_units.counties_under(unit.code):
        manifest = write_sample_inbox(year, Path(out) / county.code, county_seed(county.code, seed),
                                      targets=county_targets(year, county.code, seed))
        written.append(CountySample(county.code, county.name_zh, county_size(county.code, seed), manifest))
    return written
