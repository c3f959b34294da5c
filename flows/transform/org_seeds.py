"""The seeds of the org hierarchy that `org_indicators` reads: the units, and which counties each holds.

The hierarchy is the contract's (`flows/contract/data/org_units.toml`, read by
`flows.contract.org_units`); the builder writes it into the warehouse before the models run
(`flows.transform.models.load_seeds`), so that the SQL adds up a city's or the province's
counties without a list kept by hand, and an analyst can join on it.
"""

from __future__ import annotations

import polars as pl

from flows.contract import org_units

SEED_UNITS = "seed_org_units"
SEED_MEMBERS = "seed_org_members"


def units_frame() -> pl.DataFrame:
    """Return `seed_org_units`: every org unit (code, name_zh, level, parent, unit_order), in file order."""
    items = list(org_units.units().values())
    return pl.DataFrame(
        {
            "code": [u.code for u in items],
            "name_zh": [u.name_zh for u in items],
            "level": [str(u.level) for u in items],
            "parent": [u.parent for u in items],
            "unit_order": list(range(1, len(items) + 1)),
        },
        schema={"code": pl.String, "name_zh": pl.String, "level": pl.String, "parent": pl.String,
                "unit_order": pl.Int32},
    )  # fmt: skip


def members_frame() -> pl.DataFrame:
    """Return `seed_org_members`: one row (org, county) per county and each unit at or above it.

    A county is a member of itself, so that its own figure comes from the same sum as a city's.
    """
    pairs = [(above.code, county.code) for county in org_units.units().values() if county.level == "county"
             for above in org_units.ancestors(county.code)]
    return pl.DataFrame(pairs, schema={"org": pl.String, "county": pl.String}, orient="row")


def seed_frames() -> dict[str, pl.DataFrame]:
    """Return both seeds, by table name."""
    return {SEED_UNITS: units_frame(), SEED_MEMBERS: members_frame()}
