"""Lists of names are masked name by name; a company party is read as one from its type as written."""

from __future__ import annotations

import polars as pl
import pytest

from flows.contract.ledgers import LEDGERS
from flows.privacy.masking import mask_names_text, mask_person_names
from flows.privacy.protect import masked_text, reads_clear

CASES = LEDGERS["cases"]


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("苏国、王强海", "苏某、王某某"),
        ("欧阳娜娜, 买买提·艾力　李", "欧阳某某, 买某某·某某　李某"),  # separators as written, full-width space too
        ("、张三；；李四、", "、张某；；李某、"),
        ("", ""),
        (None, None),
    ],
)
def test_a_cell_of_names_is_masked_name_by_name_keeping_its_separators(written, masked):
    frame = pl.DataFrame({"v": [written]}, schema={"v": pl.Utf8})
    assert frame.select(mask_names_text(pl.col("v"))).item() == masked
    assert frame.select(masked_text(pl.col("v"), LEDGERS["inspections"].column("officers"))).item() == masked


def test_a_list_of_names_is_masked_name_by_name():
    frame = pl.DataFrame({"v": [["何国花", "苏秀文"], ["欧阳振华", None, ""], [], None]},
                         schema={"v": pl.List(pl.Utf8)})
    assert frame.select(mask_person_names(pl.col("v"))).to_series().to_list() == [
        ["何某某", "苏某某"], ["欧阳某某", None, ""], [], None]


@pytest.mark.parametrize(
    ("party_type", "party"),
    [
        ("单位", "西吉县红星网吧"),
        (" 企业 ", "西吉县红星网吧"),  # an alias, as the enumeration reads it
        ("法人", "西吉县红星网吧"),
        ("个体工商户", "西吉县红星网吧"),
        ("个人", "西某某某某某某"),
        ("公司", "西某某某某某某"),  # not a value of the list: in doubt, a person
        (None, "西某某某某某某"),
    ],
)
def test_a_party_is_kept_in_clear_only_when_its_type_reads_as_an_organisation(party_type, party):
    frame = pl.DataFrame({"party": ["西吉县红星网吧"], "party_type": [party_type]}, schema={
        "party": pl.Utf8, "party_type": pl.Utf8})
    column = CASES.column("party")
    clear = reads_clear(CASES, column, pl.col("party_type"))
    assert frame.select(masked_text(pl.col("party"), column, clear)).item() == party


def test_a_phone_written_in_a_company_name_is_still_masked():
    frame = pl.DataFrame({"party": ["红星网吧13857246913"], "party_type": ["单位"]})
    column = CASES.column("party")
    clear = reads_clear(CASES, column, pl.col("party_type"))
    assert frame.select(masked_text(pl.col("party"), column, clear)).item() == "红星网吧138****6913"
