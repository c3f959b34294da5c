"""Rendering figures as the report prints them, and the agreement table of indicators.md."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.contract.catalog import load_catalog
from flows.contract.printed_form import Rendering, agrees, last_digit_unit, parse_printed, render

PUBLISHED_RENDERINGS = [
    # code, a value the ledgers could give, what the 2024 report printed
    ("market_campaigns", 13, "10余次"),
    ("inspector_person_times", 1776, "1776余人次"),
    ("venue_inspections", 888, "888余家次"),
    ("relic_patrols", 109, "109家/次"),
    ("fines_yuan", Decimal("13650.00"), "1.365万元"),
    ("confiscated_yuan", Decimal("6800"), "约0.7万元"),
    ("confiscated_yuan", Decimal("7499.99"), "约0.7万元"),
    ("case_closure_rate", Decimal("100.0"), "100%"),
    ("publicity_events", 157, "150余场"),
    ("posters", 72999, "7.2万余张"),
    ("leaflets", 31000, "3.1万份"),
    ("banners", 110, "110余条"),
    ("wechat_posts", 226, "220余条"),
    ("people_reached", 80321, "约8万余人次"),
    ("people_reached", 75000, "约8万余人次"),
]


@pytest.mark.parametrize(("code", "value", "printed"), PUBLISHED_RENDERINGS)
def test_render_as_published(code, value, printed):
    assert load_catalog()[code].render(value) == printed


AGREEMENT_EXAMPLES = [
    # printed number, qualifier, value, agrees — the examples of indicators.md
    (150, "余", 150, True), (150, "余", 159, True), (150, "余", 160, False), (150, "余", 149, False),
    (72000, "余", 72000, True), (72000, "余", 72999, True), (72000, "余", 73000, False),
    (10, "余", 19, True), (10, "余", 20, False), (10, "余", 9, False),
    (1776, "余", 1776, True), (1776, "余", 1777, False),
    (7000, "约", 6500, True), (7000, "约", 7499, True), (7000, "约", 7500, False),
    (7000, "约", 6499, False),
    (80000, "约余", 75000, True), (80000, "约余", 89999, True), (80000, "约余", 90000, False),
    (80000, "约…余", 74999, False),
    (13650, "", 13650, True), (13650, "", Decimal("13650.00"), True), (13650, "", 13651, False),
    (100, None, 100.0, True), (0, "", 0, True), (0, "", 1, False),
    ("7.2万", "余", 72500, True), ("约0.7万", None, 7200, True), ("约8万余人次", None, 88000, True),
]  # fmt: skip


@pytest.mark.parametrize(("number", "qualifier", "value", "expected"), AGREEMENT_EXAMPLES)
def test_agreement_table(number, qualifier, value, expected):
    assert agrees(number, qualifier, value) is expected


def test_published_figures_agree_with_their_own_number():
    for indicator in load_catalog().values():
        p = indicator.published_2024
        if p is not None and p.number is not None:
            assert agrees(p.number, p.qualifier, p.number), indicator.code


def test_parse_printed():
    assert parse_printed("约8万余人次") == (Decimal(80000), "约余")
    assert parse_printed("1.365万元") == (Decimal("13650"), "")
    assert parse_printed("10余次") == (Decimal(10), "余")
    assert parse_printed("100%") == (Decimal(100), "")
    with pytest.raises(ValueError):
        parse_printed("零事故")


def test_last_digit_unit():
    assert last_digit_unit(72000) == 1000
    assert last_digit_unit(1776) == 1
    assert last_digit_unit(Decimal("97.5")) == Decimal("0.1")
    assert last_digit_unit(Decimal("13650.00")) == 10


def test_none_renders_as_none():
    assert render(None, Rendering()) is None
    assert agrees(100, "", None) is False


def test_step_must_be_a_power_of_ten():
    with pytest.raises(ValueError):
        Rendering(step=Decimal(5))
    with pytest.raises(ValueError):
        Rendering(qualifier="大约")


renderings = st.builds(
    Rendering,
    qualifier=st.sampled_from(["", "余", "约", "约余"]),
    wan=st.booleans(),
    step=st.sampled_from([Decimal("0.01"), Decimal("0.1"), Decimal(1), Decimal(10),
                          Decimal(1000), Decimal(10000)]),
)  # fmt: skip
values = st.one_of(
    st.integers(min_value=0, max_value=10**9),
    st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
)


@given(value=values, rendering=renderings, unit=st.sampled_from(["", "元", "人次", "%", "家/次"]))
def test_every_rendering_agrees_with_its_value(value, rendering, unit):
    number, qualifier = parse_printed(render(value, rendering, unit))
    assert agrees(number, qualifier, value)


@given(value=values, rendering=renderings)
def test_exact_rendering_reads_back_the_value(value, rendering):
    exact = Rendering(qualifier="", wan=rendering.wan)
    number, qualifier = parse_printed(render(value, exact))
    assert qualifier == "" and number == value


@given(value=st.integers(min_value=0, max_value=10**7))
def test_catalog_renderings_agree(value):
    for indicator in load_catalog().values():
        number, qualifier = parse_printed(indicator.render(value))
        assert agrees(number, qualifier, value), indicator.code
