import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.textnorm import (
    halfwidth_expr,
    header_unit,
    normalise_header,
    normalise_value,
    normalise_value_expr,
    to_halfwidth,
)


def test_to_halfwidth_maps_full_width_ascii_and_ideographic_space():
    assert to_halfwidth("ＫＴＶ　１２３（元）") == "KTV 123(元)"
    assert to_halfwidth("～！") == "~!"
    assert to_halfwidth("中文不变") == "中文不变"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("罚款金额（元）", "罚款金额"),
        ("罚款金额(元)", "罚款金额"),
        ("罚款金额（万元）", "罚款金额"),
        ("出动\n人次", "出动人次"),
        (" 检查 日期\u3000", "检查日期"),
        ("发放海报（张）", "发放海报"),
        ("检查对象", "检查对象"),
        ("罚款（元）金额", "罚款(元)金额"),  # only a trailing unit is dropped
    ],
)
def test_normalise_header(header, expected):
    assert normalise_header(header) == expected


@pytest.mark.parametrize(
    ("header", "unit"),
    [
        ("罚款金额（万元）", "万元"),
        ("罚款金额(元)", "元"),
        ("罚款金额（ 万 元 ）", "万元"),
        ("罚款金额", None),
        ("罚款金额()", None),
    ],
)
def test_header_unit(header, unit):
    assert header_unit(header) == unit


def test_normalise_value_unifies_middle_dots():
    for dot in "・•‧·･":
        assert normalise_value(f"4{dot}23") == "4·23"
    assert normalise_value(" 4 ． 23 ") == "4.23"


@given(st.lists(st.text(max_size=12), max_size=20))
def test_halfwidth_expr_matches_to_halfwidth(texts):
    out = pl.DataFrame({"t": texts}, schema={"t": pl.Utf8}).select(halfwidth_expr(pl.col("t")))
    assert out["t"].to_list() == [to_halfwidth(t) for t in texts]


@given(st.lists(st.one_of(st.none(), st.text(max_size=12)), max_size=20))
def test_normalise_value_expr_matches_normalise_value(texts):
    out = pl.DataFrame({"t": texts}, schema={"t": pl.Utf8}).select(
        normalise_value_expr(pl.col("t"))
    )
    assert out["t"].to_list() == [None if t is None else normalise_value(t) for t in texts]
