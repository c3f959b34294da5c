"""The polars suite runner finds exactly the rows Great Expectations finds, on the same frames."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from flows.validate.gx_pandas import gx_results
from flows.validate.suite_runner import UnsupportedExpectation, condition_expr, run_expectations
from flows.validate.suites import ROW, UNIT, load_suite

INDEX = [UNIT, ROW]


def runner_results(frame: pl.DataFrame, expectations: list[dict]) -> list[dict]:
    return [{"rows": set(o.unexpected.select(INDEX).iter_rows()), "element_count": o.element_count,
             "unexpected_count": o.unexpected_count, "raised": False}
            for o in run_expectations(frame, expectations, INDEX)]


def assert_same(frame: pl.DataFrame, name: str, expectations: list[dict]) -> None:
    ours, theirs = runner_results(frame, expectations), gx_results(frame, name, expectations)
    for e, a, b in zip(expectations, ours, theirs, strict=True):
        assert not b["raised"], e
        assert (a["rows"], a["unexpected_count"]) == (b["rows"], b["unexpected_count"]), e
        # With a row condition that keeps no row, GX may report the count of another domain.
        if a["element_count"]:
            assert a["element_count"] == b["element_count"], e


def test_the_2024_sample_gives_gx_s_findings_for_every_ledger(tmp_path, monkeypatch):
    from flows.run.stages import run_ingest
    from flows.sample import write_sample_inbox
    from flows.validate import sheet_suites as validation

    frames: dict[str, list[pl.DataFrame]] = {}
    real = validation.evaluate

    def capture(code, frame):
        frames.setdefault(code, []).append(frame)
        return real(code, frame)

    monkeypatch.setattr(validation, "evaluate", capture)
    write_sample_inbox(2024, tmp_path / "inbox")
    run_ingest(tmp_path / "inbox", tmp_path / "wh" / "tally.duckdb")
    assert len(frames) == 9  # safety_incidents reports zero rows all year
    found = 0
    for code, parts in frames.items():
        frame = pl.concat(parts, how="vertical_relaxed")
        assert_same(frame, code, load_suite(code)["expectations"])
        found += sum(o.unexpected_count for o in run_expectations(frame, load_suite(code)["expectations"], INDEX))
    assert found > 0  # the planted mistakes are among them


# Generated frames: every expectation type and condition form the suites use

KINDS = ["日常检查", "双随机抽查", "联合抽查", "专项检查", "巡查", None]
DAY = st.one_of(st.none(), st.dates(dt.date(2024, 1, 1), dt.date(2024, 3, 31)))
ROWS = st.fixed_dictionaries({
    "case_no": st.one_of(st.none(), st.sampled_from(["A1", "A2", "A3"])),
    "filed_on": DAY, "decided_on": DAY, "closed_on": DAY,
    "party_type": st.one_of(st.none(), st.sampled_from(["个人", "单位", "公司"])),
    "party_id_kind": st.one_of(st.none(), st.sampled_from(["resident_id", "uscc", "other"])),
    "party_id_valid": st.one_of(st.none(), st.booleans()),
    "fine_yuan": st.one_of(st.none(), st.floats(-5, 5, allow_nan=False)),
    "inspectors": st.one_of(st.none(), st.integers(-1, 3)),
    "inspection_type": st.sampled_from(KINDS),
    "campaign": st.one_of(st.none(), st.just("净网")),
    "spot_check_task": st.one_of(st.none(), st.just("SJ-1")),
    "url": st.one_of(st.none(), st.sampled_from(["https://a.cn/x", "HTTP://b", "ftp://c", "www.d.cn",
                                                  "http://", "https://e f"])),
    "inspection_date": DAY,
})  # fmt: skip
SCHEMA = {"case_no": pl.Utf8, "filed_on": pl.Date, "decided_on": pl.Date, "closed_on": pl.Date,
          "party_type": pl.Utf8, "party_id_kind": pl.Utf8, "party_id_valid": pl.Boolean,
          "fine_yuan": pl.Float64, "inspectors": pl.Int64, "inspection_type": pl.Utf8,
          "campaign": pl.Utf8, "spot_check_task": pl.Utf8, "url": pl.Utf8, "inspection_date": pl.Date}


def generated_suite() -> list[dict]:
    columns = set(SCHEMA) | {UNIT, "_period_start", "_period_end"}
    out = []
    for code in ("cases", "inspections", "wechat_posts"):
        for e in load_suite(code)["expectations"]:
            kw = e["kwargs"]
            named = [kw[k] for k in ("column", "column_A", "column_B") if k in kw] + kw.get("column_list", [])
            if all(n in columns for n in named):
                out.append(e)
    return out


# Each example runs GX (about a second): no shrinking, which would take minutes.
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(st.lists(ROWS, min_size=1, max_size=25), st.integers(1, 3))
def test_generated_frames_give_gx_s_findings(rows, units):
    frame = pl.DataFrame(rows, schema=SCHEMA).with_columns(
        (pl.int_range(pl.len()) % units).cast(pl.Int32).alias(UNIT),
        (pl.int_range(pl.len()) + 2).cast(pl.Int32).alias(ROW),
        pl.lit(dt.date(2024, 2, 1)).alias("_period_start"),
        pl.lit(dt.date(2024, 2, 29)).alias("_period_end"),
    )
    expectations = generated_suite()
    assert {e["type"] for e in expectations} == {
        "expect_column_values_to_not_be_null", "expect_column_values_to_be_in_set",
        "expect_column_values_to_be_between", "expect_column_values_to_match_regex",
        "expect_column_pair_values_a_to_be_greater_than_b", "expect_compound_columns_to_be_unique"}
    assert_same(frame, "generated", expectations)


# What it does not understand, it refuses


@pytest.mark.parametrize("condition", ['a > 3', 'a.str.len() == 2', 'a=="x" and b=="y"'])
def test_a_condition_outside_the_supported_forms_is_refused(condition):
    with pytest.raises(UnsupportedExpectation, match="无法解析校验条件"):
        condition_expr(condition)


def test_an_unknown_expectation_or_argument_is_refused():
    frame = pl.DataFrame({UNIT: [0], ROW: [2], "a": [1]})
    with pytest.raises(UnsupportedExpectation, match="未支持的校验规则类型"):
        run_expectations(frame, [{"type": "expect_column_mean_to_be_between", "kwargs": {"column": "a"}}], INDEX)
    with pytest.raises(UnsupportedExpectation, match="mostly"):
        run_expectations(frame, [{"type": "expect_column_values_to_not_be_null",
                                  "kwargs": {"column": "a", "mostly": 0.9}}], INDEX)


def test_conditions_keep_the_rows_pandas_query_keeps():
    frame = pl.DataFrame({"k": ["x", "y", None], "n": [1, None, 3]})
    keep = {c: frame.filter(condition_expr(c))["n"].to_list()
            for c in ('k=="x"', "k!='x'", 'k.isin(["x", "y"])', "k.isnull()", "k.notnull()", "n==3")}
    assert keep == {'k=="x"': [1], "k!='x'": [None], 'k.isin(["x", "y"])': [1, None],
                    "k.isnull()": [3], "k.notnull()": [1, None], "n==3": [3]}
