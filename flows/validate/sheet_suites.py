"""Validate every parsed sheet against its ledger's Great Expectations suite, and say what broke.

`validate_ledgers` is a loader check (`flows.extract.plan.Check`): it sees all units of a run,
evaluates each ledger's suite once over all its files' rows (concatenated, with a `_unit`
column saying which file a row came from), and turns the failed expectations back into problem
records: file row, column, header as the file writes it, raw text, rule, severity and a
Chinese message.

Rules are reported once. The cell parser (`flows.extract.cells`) already reports a blank required
cell and a value outside an enumeration, and leaves such cells null; the suite states those
rules too, but a finding on a cell that the parser already reported is dropped. Ranges
(`minimum`) are left to the suite alone: the loader parses with `ranges_in_suite(ledger)`,
which keeps the out-of-range value so that the suite can name the rule.

The suites are evaluated by `flows.validate.suite_runner`, in polars, and held to GX's own pandas
results by the tests (GX's SQL datasource returns empty metrics on DuckDB, GX issue #11579,
and its pandas datasource costs a hand-over and seconds per call). What every expectation
found is returned with the problems (`SuiteFindings`); the run sums it over its batches and
`flows.validate.data_docs` renders it as GX Data Docs once the run is published.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from flows.contract.ledgers import Ledger
from flows.contract.problems import PROBLEM_SCHEMA, problem_frame
from flows.errors import TallyError
from flows.privacy.masking import id_kind_expr, id_valid_expr
from flows.validate.suite_runner import PARTIAL, Outcome, UnsupportedExpectation, run_expectations
from flows.validate.suites import PERIOD, PERIOD_END, PERIOD_START, ROW, UNIT, load_suite

if TYPE_CHECKING:
    from flows.extract.plan import Prepared

UNIQUE = "expect_compound_columns_to_be_unique"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# The reader writes an Excel date cell as `2024-03-05 00:00:00`; the clerk sees a date.
EXCEL_MIDNIGHT = r"^(\d{4}-\d{2}-\d{2}) 00:00:00$"


class ValidationFailed(TallyError):
    """An expectation could not be evaluated: the run must not load as if it had passed."""


@dataclasses.dataclass
class Timings:
    """Seconds spent validating in this run, by stage (for the benchmark and the log)."""

    frames: float = 0.0  # building the validation frames in polars
    evaluate: float = 0.0  # the suites' expectations
    mapping: float = 0.0  # failures back to problem records
    rows: int = 0

    def add(self, other: Timings) -> None:
        """Add another validation's timings to these."""
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclasses.dataclass
class ExpectationTally:
    """One expectation's counts summed over a run's validations, for the Data Docs."""

    expectation: dict
    element_count: int = 0
    missing_count: int = 0
    unexpected_count: int = 0
    partial: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class RunValidation:
    """What the suites found in one validation (or summed over several), by ledger."""

    suites: dict[str, list[ExpectationTally]] = dataclasses.field(default_factory=dict)
    timings: Timings = dataclasses.field(default_factory=Timings)

    def add(self, code: str, outcomes: Sequence[Outcome]) -> None:
        """Add one validation's outcomes to the run's tallies."""
        tallies = self.suites.setdefault(code, [ExpectationTally(o.expectation) for o in outcomes])
        for tally, o in zip(tallies, outcomes, strict=True):
            tally.element_count += o.element_count
            tally.missing_count += o.missing_count
            tally.unexpected_count += o.unexpected_count
            tally.partial = (tally.partial + o.partial)[:PARTIAL]


@dataclasses.dataclass(frozen=True)
class SuiteFindings:
    """What `validate_ledgers` found: one PROBLEM_SCHEMA frame per unit, and the suites' tallies.

    Returned, not kept in the process: a run sums the findings of its batches itself
    (`merge_suites`) and hands them to the Data Docs.
    """

    problems: list[pl.DataFrame]
    suites: dict[str, list[ExpectationTally]] = dataclasses.field(default_factory=dict)
    timings: Timings = dataclasses.field(default_factory=Timings)


def merge_suites(*parts: dict[str, list[ExpectationTally]]) -> dict[str, list[ExpectationTally]]:
    """Sum the tallies of several validations into new ones (the parts are left as they are)."""
    total = RunValidation()
    for part in parts:
        for code, tallies in part.items():
            mine = total.suites.setdefault(code, [ExpectationTally(t.expectation) for t in tallies])
            for tally, other in zip(mine, tallies, strict=True):
                tally.element_count += other.element_count
                tally.missing_count += other.missing_count
                tally.unexpected_count += other.unexpected_count
                tally.partial = (tally.partial + list(other.partial))[:PARTIAL]
    return total.suites


def add_timings(*parts: Timings) -> Timings:
    """Return the sum of several validations' timings."""
    total = Timings()
    for part in parts:
        total.add(part)
    return total


@cache
def ranges_in_suite(ledger: Ledger) -> Ledger:
    """Return the ledger with its minimums left to the suite, for the cell parser."""
    columns = tuple(dataclasses.replace(c, minimum=None) for c in ledger.columns)
    return dataclasses.replace(ledger, columns=columns)


# Frames


def suite_view(ledger: Ledger) -> dict[str, list[pl.Expr]]:
    """Return, per ledger column the suite sees, what it sees of it (personal data reduced)."""
    shown: dict[str, list[pl.Expr]] = {}
    for column in ledger.columns:
        name, col = column.name, pl.col(column.name)
        if column.personal == "id_number":
            shown[name] = [id_kind_expr(col).alias(f"{name}_kind"), id_valid_expr(col).alias(f"{name}_valid")]
        elif column.personal is not None:
            if column.required:
                shown[name] = [pl.when(col.is_not_null()).then(pl.lit("*")).alias(name)]
        elif column.type != "names":
            shown[name] = [col]
    return shown


def validation_frame(units: Sequence[tuple[int, Prepared]], ledger: Ledger) -> pl.DataFrame:
    """Concatenate the typed rows of a ledger's units, with what the suite needs beside them.

    Personal data stays out: a required personal column becomes a mark of presence, an ID
    number becomes its kind and whether its check character holds, lists and free text go.
    """
    units = [(i, p) for i, p in units if p.parsed.rows.height]
    if not units:
        return pl.DataFrame()
    shown = suite_view(ledger)
    # One chunk: every expression below costs milliseconds per chunk, and a run has thousands.
    frame = pl.concat([p.parsed.rows.select(ROW, *shown) for _, p in units], how="vertical_relaxed",
                      rechunk=True)
    counts = np.array([p.parsed.rows.height for _, p in units])
    starts = [p.unit.period_start for _, p in units]
    frame = frame.with_columns(
        pl.Series(UNIT, np.repeat(np.array([i for i, _ in units], dtype=np.int32), counts)),
        pl.Series(PERIOD_START, np.repeat(np.array(starts, dtype="datetime64[D]"), counts)).cast(pl.Date),
        pl.Series(PERIOD, np.repeat(np.array([p.unit.period for _, p in units], dtype=object), counts),
                  dtype=pl.Utf8),
    ).with_columns(pl.col(PERIOD_START).dt.month_end().alias(PERIOD_END))
    exprs = [pl.col(UNIT), pl.col(ROW).cast(pl.Int32), *(e for es in shown.values() for e in es),
             pl.col(PERIOD_START), pl.col(PERIOD_END), pl.col(PERIOD)]
    return frame.select(exprs)


# Evaluation


def findings(outcomes: Sequence[Outcome]) -> pl.DataFrame:
    """Return one row per unexpected row of each failed expectation: unit, row and rule meta."""
    parts = []
    for outcome in outcomes:
        if outcome.success:
            continue
        config, meta = outcome.expectation, outcome.expectation["meta"]
        parts.append(outcome.unexpected.select(
            pl.col(UNIT).cast(pl.Int32), pl.col(ROW).cast(pl.Int32),
            pl.lit(outcome.index, pl.Int32).alias("_order"),
            pl.lit(meta["column"]).alias("column"), pl.lit(meta["rule"]).alias("rule"),
            pl.lit(meta["severity"]).alias("severity"), pl.lit(meta["message"]).alias("template"),
            pl.lit(bool(meta.get("once_per_row"))).alias("once_per_row"),
            pl.lit(config["type"]).alias("type"),
            pl.lit(",".join(config["kwargs"].get("column_list") or [])).alias("key_columns"),
        ))  # fmt: skip
    if not parts:
        return pl.DataFrame()
    return pl.concat(parts, how="vertical")


def evaluate(code: str, frame: pl.DataFrame) -> list[Outcome]:
    """Evaluate one ledger's suite on its validation frame; an expectation that cannot run fails the unit."""
    suite = load_suite(code)
    try:
        return run_expectations(frame, suite["expectations"], [UNIT, ROW])
    except (UnsupportedExpectation, pl.exceptions.PolarsError) as exc:
        raise ValidationFailed(f"校验规则套件 {code} 无法执行：{exc}") from exc


# Back to problem records


def first_rows(found: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    """For uniqueness findings, name the first row of each group and keep only the later ones."""
    unique = found.filter(pl.col("type") == UNIQUE)
    if unique.height == 0:
        return found.with_columns(pl.lit(None, pl.Int32).alias("_first_row"))
    rest = found.filter(pl.col("type") != UNIQUE).with_columns(pl.lit(None, pl.Int32).alias("_first_row"))
    out = [rest]
    for key_columns, group in unique.group_by("key_columns", maintain_order=True):
        keys = [k for k in key_columns[0].split(",") if k != UNIT]
        with_keys = group.join(frame.select(UNIT, ROW, *keys), on=[UNIT, ROW], how="left")
        first = pl.col(ROW).min().over([UNIT, *keys]).alias("_first_row")
        later = with_keys.with_columns(first).filter(pl.col(ROW) != pl.col("_first_row"))
        out.append(later.select(rest.columns))
    return pl.concat(out, how="vertical")


def drop_repeats(found: pl.DataFrame, told: pl.DataFrame) -> pl.DataFrame:
    """Drop findings on cells the parser already reported, and repeats of a once-per-row rule."""
    found = found.join(told, on=[UNIT, ROW, "column"], how="anti")
    once = found.filter(pl.col("once_per_row")).sort("_order").unique([UNIT, ROW, "rule"], keep="first")
    return pl.concat([found.filter(~pl.col("once_per_row")), once], how="vertical").sort(UNIT, ROW, "_order")


def message_expr(template: str) -> pl.Expr:
    """Fill a message template's {column} placeholders from each finding's row."""
    names = _PLACEHOLDER.findall(template)
    if not names:
        return pl.lit(template)
    text = _PLACEHOLDER.sub("{}", template)
    return pl.format(text, *[pl.col(n).cast(pl.Utf8).fill_null("空") for n in names])


def problem_records(found: pl.DataFrame, frame: pl.DataFrame, raw: pl.DataFrame,
                    headers: pl.DataFrame) -> pl.DataFrame:
    """Shape findings into PROBLEM_SCHEMA rows (with `_unit`), messages filled in."""
    rows = found.select(UNIT, ROW).unique()
    values = frame.join(rows, on=[UNIT, ROW], how="semi")
    texts = raw.join(rows, on=[UNIT, ROW], how="semi").unpivot(
        index=[UNIT, ROW], variable_name="column", value_name="raw_value"
    ).with_columns(pl.col("raw_value").str.replace(EXCEL_MIDNIGHT, "$1"))
    found = (
        found.join(values, on=[UNIT, ROW], how="left", suffix="_value")
        .join(texts, on=[UNIT, ROW, "column"], how="left")
        .join(headers, on=[UNIT, "column"], how="left")
        .with_columns(pl.col("header").alias("_header"))
    )
    parts = []
    for (template,), group in found.group_by("template", maintain_order=True):
        parts.append(group.with_columns(message_expr(template).alias("reason")))
    found = pl.concat(parts, how="vertical").sort(UNIT, ROW, "_order")
    out = []
    for (severity,), group in found.group_by("severity", maintain_order=True):
        out.append(problem_frame(group, severity=severity).with_columns(group[UNIT]))
    return pl.concat(out, how="vertical")


def ledger_problems(units: Sequence[tuple[int, Prepared]], ledger: Ledger,
                    outcomes: Sequence[Outcome], frame: pl.DataFrame) -> pl.DataFrame:
    """Turn one ledger's expectation outcomes into problem records, with `_unit`."""
    found = findings(outcomes)
    if found.height == 0:
        return pl.DataFrame()
    raw = pl.concat([p.parsed.raw.with_columns(pl.lit(i, pl.Int32).alias(UNIT)) for i, p in units],
                    how="vertical_relaxed").with_columns(pl.col(ROW).cast(pl.Int32))
    raw = raw.select(UNIT, ROW, *[pl.col(c.name).cast(pl.Utf8) for c in ledger.columns])
    told = pl.concat(
        [p.parsed.problems.select(pl.lit(i, pl.Int32).alias(UNIT), pl.col(ROW), "column")
         for i, p in units], how="vertical",
    )  # fmt: skip
    headers = pl.DataFrame(
        [(i, c.name, p.parsed.headers.get(c.name, c.header)) for i, p in units for c in ledger.columns],
        schema={UNIT: pl.Int32, "column": pl.Utf8, "header": pl.Utf8}, orient="row",
    )
    found = drop_repeats(first_rows(found, frame), told)
    if found.height == 0:
        return pl.DataFrame()
    return problem_records(found, frame, raw, headers)


# The check


def validate_ledgers(prepared: Sequence[Prepared]) -> SuiteFindings:
    """Validate every unit against its ledger's suite: one PROBLEM_SCHEMA frame per unit, and the tallies."""
    timings = Timings()
    found_by_suite = RunValidation()
    by_ledger: dict[str, list[tuple[int, Prepared]]] = {}
    for i, p in enumerate(prepared):
        by_ledger.setdefault(p.unit.ledger.code, []).append((i, p))
    none = pl.DataFrame(schema=PROBLEM_SCHEMA)  # frames are immutable: one empty frame serves all
    results = [none] * len(prepared)
    for units in by_ledger.values():
        ledger = units[0][1].unit.ledger
        started = time.perf_counter()
        frame = validation_frame(units, ledger)
        timings.frames += time.perf_counter() - started
        if frame.height == 0:
            continue
        timings.rows += frame.height
        started = time.perf_counter()
        outcomes = evaluate(ledger.code, frame)
        timings.evaluate += time.perf_counter() - started
        started = time.perf_counter()
        found = ledger_problems(units, ledger, outcomes, frame)
        for (unit,), part in (found.partition_by(UNIT, as_dict=True).items() if found.height else ()):
            results[unit] = part.drop(UNIT).select(list(PROBLEM_SCHEMA))
        timings.mapping += time.perf_counter() - started
        found_by_suite.add(ledger.code, outcomes)
    return SuiteFindings(results, found_by_suite.suites, timings)
