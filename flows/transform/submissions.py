"""The seeds the `submissions` relation reads: the deadline rule and the unit that keeps each ledger.

`sql/marts/submissions.sql` decides, per unit, ledger and month, whether a ledger was handed
in on time, late, not at all or is not yet due. It reads its rule from the warehouse, never
from Python: `seed_submission_rules` (one row: the deadline day, the grace, the bureau's time
zone) and `seed_ledger_units` (each ledger's Chinese name, kind and keeping unit, from the
contract). Both are written before the models are built (`flows.transform.models.load_seeds`).

Where the rule comes from: `deadline_day` is the contract's (`contract.toml`) or tally.toml's
`[completeness] deadline_day` (the two may not disagree: `flows.run.settings`), default the 5th;
`grace_hours` is tally.toml's `[completeness] grace_hours` (default 24: tally sees a file at
its next run, so a file dropped on the deadline day and read by the nightly run after it is
on time); the time zone is tally.toml's `timezone`. The settings put them in use here when
they are read (`use_rules`), as they put the contract in use.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from flows.contract.ledgers import LEDGERS
from flows.resources import SQL_DIR

MODEL = "submissions"
MODEL_SQL = SQL_DIR / "marts" / f"{MODEL}.sql"
SEED_RULES = "seed_submission_rules"
SEED_UNITS = "seed_ledger_units"
DEADLINE_DAY = 5
GRACE_HOURS = 24
TIMEZONE = "Asia/Shanghai"
# DuckDB variables a reader may set on its own connection to ask the relation "as of" another
# day or under another deadline day (`tally completeness --deadline-day`); unset, the stored
# rule and today's date in the bureau's time zone apply.
TODAY_VARIABLE = "submissions_today"
DEADLINE_VARIABLE = "submissions_deadline_day"


@dataclass(frozen=True)
class SubmissionRules:
    """When a month's ledger is due: `deadline_day` of the following month (1–28), counted as
    on time when tally first sees it within `grace_hours` after that day ends, in `timezone`."""

    deadline_day: int = DEADLINE_DAY
    grace_hours: int = GRACE_HOURS
    timezone: str = TIMEZONE


_IN_USE = [SubmissionRules()]


def use_rules(rules: SubmissionRules) -> None:
    """Put the settings' submission rules in use for the seeds written from now on."""
    _IN_USE[0] = rules


def rules_in_use() -> SubmissionRules:
    """Return the submission rules the next build stores (the defaults until settings are read)."""
    return _IN_USE[0]


def rules_frame(rules: SubmissionRules | None = None) -> pl.DataFrame:
    """Return `seed_submission_rules`: one row (deadline_day, grace_hours, timezone)."""
    rules = rules or rules_in_use()
    return pl.DataFrame(
        {"deadline_day": [rules.deadline_day], "grace_hours": [rules.grace_hours],
         "timezone": [rules.timezone]},
        schema={"deadline_day": pl.Int32, "grace_hours": pl.Int32, "timezone": pl.String},
    )  # fmt: skip


def ledger_units_frame() -> pl.DataFrame:
    """Return `seed_ledger_units`: per ledger of the contract in use, its names, kind and unit.

    `ledger_order` is the contract's order of the ledgers, the order the report lists them in.
    """
    items = list(LEDGERS.values())
    return pl.DataFrame(
        {
            "ledger": [x.code for x in items],
            "ledger_zh": [x.name_zh for x in items],
            "kind": [str(x.kind) for x in items],
            "unit": [x.unit for x in items],
            "unit_zh": [x.unit_zh for x in items],
            "ledger_order": list(range(1, len(items) + 1)),
        },
        schema={"ledger": pl.String, "ledger_zh": pl.String, "kind": pl.String, "unit": pl.String,
                "unit_zh": pl.String, "ledger_order": pl.Int32},
    )  # fmt: skip


def seed_frames(rules: SubmissionRules | None = None) -> dict[str, pl.DataFrame]:
    """Return both seeds, by table name."""
    return {SEED_RULES: rules_frame(rules), SEED_UNITS: ledger_units_frame()}
