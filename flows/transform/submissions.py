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

import re
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


# Comments (COMMENT ON), Chinese with English beside: the relation's from its SQL header's
# `-- Columns:` list (name, type, text), the seeds' from here. A build replaces the view, which
# drops its comments: `flows.transform.models.build` puts them back after every build.
RELATION_COMMENTS = {
    MODEL: "台账报送情况：每个单位、台账、月份是否按时报送 · per unit, ledger and month: on time, late, "
           "missing or not yet due (sql/marts/submissions.sql)",
    SEED_RULES: "报送期限规则 · the deadline rule submissions reads (from tally.toml / contract.toml)",
    SEED_UNITS: "台账与填报单位 · each ledger of the contract with its keeping unit",
}
SEED_COLUMN_COMMENTS = {
    SEED_RULES: {
        "deadline_day": "次月截止日 · the day of the following month a month's ledger is due (1-28)",
        "grace_hours": "宽限小时数 · hours after the deadline day's end a first sighting still counts on time",
        "timezone": "时区 · the bureau's time zone (IANA) the deadline day is counted in",
    },
    SEED_UNITS: {
        "ledger": "台账代码 · ledger code",
        "ledger_zh": "台账名称 · ledger name",
        "kind": "台账类型 · period | register | snapshot",
        "unit": "填报单位代码 · code of the keeping unit",
        "unit_zh": "填报单位 · the keeping unit",
        "ledger_order": "台账顺序 · the contract's order of the ledgers",
    },
}
_COLUMN_LINE = re.compile(r"^--\s+([a-z_][a-z0-9_]*)\s+([A-Z][A-Z\[\]]*)\s+(.+?)\s*$")


def header_columns(sql: str) -> dict[str, str]:
    """Return the `-- Columns:` list of a model's header: column name → its comment text."""
    columns: dict[str, str] = {}
    lines = sql.splitlines()
    if "-- Columns:" not in lines:
        return columns
    for line in lines[lines.index("-- Columns:") + 1:]:
        found = _COLUMN_LINE.match(line)
        if not found:
            break
        columns[found.group(1)] = found.group(3)
    return columns


def comment_relations(con) -> None:
    """Put the comments on `submissions` and its seeds (each relation that exists) and their columns."""
    have = {name: kind for name, kind in con.execute(
        "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_name IN (?, ?, ?)", [MODEL, SEED_RULES, SEED_UNITS]).fetchall()}  # fmt: skip
    columns = {MODEL: header_columns(MODEL_SQL.read_text(encoding="utf-8")), **SEED_COLUMN_COMMENTS}
    for name, kind in have.items():
        what = "VIEW" if kind == "VIEW" else "TABLE"
        con.execute(f'COMMENT ON {what} "{name}" IS {_literal(RELATION_COMMENTS[name])}')
        for column, text in columns[name].items():
            con.execute(f'COMMENT ON COLUMN "{name}"."{column}" IS {_literal(text)}')


def _literal(text: str) -> str:
    """Quote our own comment text as a SQL literal (never spreadsheet text)."""
    return "'" + text.replace("'", "''") + "'"
