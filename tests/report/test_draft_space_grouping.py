"""check-draft reads a figure grouped by spaces (`1 776`, thin or no-break spaces) as one number."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from flows.report.draft_check import check_text, find_citations

FIGURES = pl.DataFrame({"code": ["inspector_person_times"], "name_zh": ["出动检查人次"],
                        "value": [1776.0], "printed": ["1776人次"]})


@pytest.mark.parametrize("space", [" ", "\u00a0", "\u2009", "\u202f"], ids=["space", "nbsp", "thin", "narrow-nbsp"])
def test_a_space_grouped_figure_is_one_number(space):
    text = f"全年出动检查人员1{space}776人次。"
    [citation], unmatched = find_citations(text)
    assert (citation.code, citation.number) == ("inspector_person_times", Decimal(1776))
    assert citation.cited == f"1{space}776人次"  # quoted as the draft writes it
    assert unmatched == []
    assert check_text(text, FIGURES).ok


def test_a_wrong_space_grouped_figure_disagrees_instead_of_reading_its_tail():
    check = check_text("全年出动检查人员1 767人次。", FIGURES)
    [citation] = check.matched
    assert citation.number == Decimal(1767) and not check.ok


@pytest.mark.parametrize(("text", "numbers"), [
    ("共计12 345 678元。", [Decimal(12345678)]),
    ("2024 100人次。", [Decimal(100)]),  # a year then a count: four digits do not lead a group
    ("0.5 100人次。", [Decimal(100)]),  # a decimal is not a group's lead
])
def test_only_real_groups_are_joined(text, numbers):
    matched, unmatched = find_citations(text)
    assert [c.number for c in matched + unmatched] == numbers
