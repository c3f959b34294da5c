"""Evaluate a Great Expectations suite's expectations on a polars frame, as GX would on pandas.

The suites in `expectations/` stay GX 1.x data, and their Data Docs are GX's own; only the
evaluation runs here. GX's pandas datasource costs a hand-over to pandas, a cost per call and
per expectation, and its import; this adapter evaluates every expectation of a ledger in one
polars pass over the frame the loader already holds (on 1M inspection rows: 0.06 s against
GX's 1.6 s plus 0.12 s of hand-over to pandas, measured by `bench/validation_cost.py`). `tests/test_suite_runner.py` holds it to GX's results, row for
row, on hand-made and generated frames.

Only what the suites use is understood: six expectation types, their keyword arguments, and
row conditions of the forms `col=="v"`, `col!="v"`, `col.isin([...])`, `col.isnull()` and
`col.notnull()` (GX's pandas condition parser). Anything else raises `UnsupportedExpectation`
rather than passing silently.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from flows.errors import TallyError

PARTIAL = 20  # GX's partial_unexpected_list length
_CONDITION = re.compile(
    r"""^\s*(?P<col>[A-Za-z_][A-Za-z0-9_]*)\s*(?:
        (?P<op>==|!=)\s*(?P<lit>"[^"]*"|'[^']*'|-?\d+(?:\.\d+)?|True|False)
        |\.isin\(\s*(?P<list>\[.*\])\s*\)
        |\.(?P<null>isnull|notnull)\(\s*\)
    )\s*$""",
    re.VERBOSE,
)
# Keyword arguments with no effect on which rows are unexpected.
_IGNORED_KWARGS = {"column", "column_A", "column_B", "column_list", "result_format", "catch_exceptions"}


class UnsupportedExpectation(TallyError):
    """An expectation (or its condition) that this adapter cannot evaluate as GX would."""


@dataclass
class Outcome:
    """One expectation's result: which rows broke it, and GX's summary counts."""

    index: int  # its place in the suite
    expectation: dict
    element_count: int = 0
    missing_count: int = 0
    unexpected: pl.DataFrame = field(default_factory=pl.DataFrame)  # index columns of the rows
    partial: list = field(default_factory=list)  # up to PARTIAL unexpected values, for the docs

    @property
    def unexpected_count(self) -> int:
        return self.unexpected.height

    @property
    def success(self) -> bool:
        return self.unexpected.height == 0


def _literal(text: str) -> Any:
    if text[0] in "\"'":
        return text[1:-1]
    if text in ("True", "False"):
        return text == "True"
    return float(text) if "." in text else int(text)


def condition_expr(condition: str | None) -> pl.Expr:
    """Return the rows a GX pandas `row_condition` keeps, as a polars expression (null → not kept)."""
    if not condition:
        return pl.lit(True)
    m = _CONDITION.match(condition)
    if m is None:
        raise UnsupportedExpectation(f"无法解析校验条件：{condition}")
    col = pl.col(m["col"])
    if m["op"]:
        value = _literal(m["lit"])
        keep = col == value if m["op"] == "==" else col != value
        return keep.fill_null(False)
    if m["list"]:
        try:
            values = json.loads(m["list"].replace("'", '"'))
        except json.JSONDecodeError as exc:
            raise UnsupportedExpectation(f"无法解析校验条件：{condition}") from exc
        return col.is_in(values).fill_null(False)
    return col.is_null() if m["null"] == "isnull" else col.is_not_null()


def _check_kwargs(kind: str, kwargs: dict, allowed: set[str]) -> None:
    extra = set(kwargs) - _IGNORED_KWARGS - allowed - {"row_condition", "condition_parser"}
    if extra:
        raise UnsupportedExpectation(f"校验规则 {kind} 含有未支持的参数：{', '.join(sorted(extra))}")
    if kwargs.get("condition_parser") not in (None, "pandas"):
        raise UnsupportedExpectation(f"校验规则 {kind} 的条件解析器 {kwargs['condition_parser']} 未支持")


def domain_and_unexpected(kind: str, kwargs: dict) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """Return (missing, unexpected, value) expressions of one expectation over its condition's rows.

    `missing` rows are outside the expectation's domain (GX ignores them); `unexpected` is only
    read on the others; `value` is what the docs list for an unexpected row.
    """
    if kind == "expect_column_values_to_not_be_null":
        _check_kwargs(kind, kwargs, set())
        col = pl.col(kwargs["column"])
        return pl.lit(False), col.is_null(), col
    if kind == "expect_column_values_to_be_in_set":
        _check_kwargs(kind, kwargs, {"value_set"})
        col = pl.col(kwargs["column"])
        return col.is_null(), ~col.is_in(list(kwargs["value_set"])), col
    if kind == "expect_column_values_to_be_between":
        _check_kwargs(kind, kwargs, {"min_value", "max_value", "strict_min", "strict_max"})
        col = pl.col(kwargs["column"])
        bad = pl.lit(False)
        if kwargs.get("min_value") is not None:
            low = kwargs["min_value"]
            bad = bad | (col <= low if kwargs.get("strict_min") else col < low)
        if kwargs.get("max_value") is not None:
            high = kwargs["max_value"]
            bad = bad | (col >= high if kwargs.get("strict_max") else col > high)
        return col.is_null(), bad, col
    if kind == "expect_column_values_to_match_regex":
        _check_kwargs(kind, kwargs, {"regex"})
        col = pl.col(kwargs["column"])
        # pandas' str.contains is re.search: the suites anchor their patterns with ^ and $.
        return col.is_null(), ~col.cast(pl.Utf8).str.contains(kwargs["regex"]), col
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        _check_kwargs(kind, kwargs, {"or_equal", "ignore_row_if"})
        a, b = pl.col(kwargs["column_A"]), pl.col(kwargs["column_B"])
        missing = _missing([a, b], kwargs.get("ignore_row_if", "both_values_are_missing"), kind)
        bad = ~(a >= b) if kwargs.get("or_equal") else ~(a > b)
        return missing, bad.fill_null(True), pl.concat_list(a.cast(pl.Utf8), b.cast(pl.Utf8))
    if kind == "expect_compound_columns_to_be_unique":
        _check_kwargs(kind, kwargs, {"ignore_row_if"})
        cols = [pl.col(c) for c in kwargs["column_list"]]
        missing = _missing(cols, kwargs.get("ignore_row_if", "all_values_are_missing"), kind)
        # Duplicates are counted among the rows in the domain only: `over` runs after the filter.
        return missing, pl.len().over(kwargs["column_list"]) > 1, pl.concat_list(
            [c.cast(pl.Utf8) for c in cols])
    raise UnsupportedExpectation(f"未支持的校验规则类型：{kind}")


def _missing(cols: list[pl.Expr], how: str, kind: str) -> pl.Expr:
    nulls = [c.is_null() for c in cols]
    if how in ("either_value_is_missing", "any_value_is_missing"):
        return pl.any_horizontal(nulls)
    if how in ("both_values_are_missing", "all_values_are_missing"):
        return pl.all_horizontal(nulls)
    if how == "never":
        return pl.lit(False)
    raise UnsupportedExpectation(f"校验规则 {kind} 的 ignore_row_if={how} 未支持")


def run_expectations(frame: pl.DataFrame, expectations: list[dict], index: list[str]) -> list[Outcome]:
    """Evaluate every expectation on frame; each Outcome names its unexpected rows by `index`."""
    plans = []
    lazy = frame.lazy()
    for i, expectation in enumerate(expectations):
        kind, kwargs = expectation["type"], expectation.get("kwargs", {})
        condition = condition_expr(kwargs.get("row_condition"))
        missing, bad, value = domain_and_unexpected(kind, kwargs)
        rows = lazy.filter(condition)
        counts = rows.select(pl.len().alias("n"), missing.sum().alias("missing"))
        domain = rows.filter(~missing)
        unexpected = domain.filter(bad) if kind != "expect_compound_columns_to_be_unique" else (
            domain.with_columns(bad.alias("_bad")).filter(pl.col("_bad")))
        plans.append((i, expectation, counts,
                      unexpected.select(*index, value.alias("_value"))))
    collected = pl.collect_all([q for _, _, c, u in plans for q in (c, u)])
    out = []
    for k, (i, expectation, _, _) in enumerate(plans):
        counts, unexpected = collected[2 * k], collected[2 * k + 1]
        out.append(Outcome(
            index=i, expectation=expectation, element_count=int(counts["n"][0]),
            missing_count=int(counts["missing"][0] or 0), unexpected=unexpected.select(index),
            partial=unexpected["_value"].head(PARTIAL).to_list(),
        ))  # fmt: skip
    return out
