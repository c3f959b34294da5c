"""protect() and name_keys() against the straightforward versions they replaced."""

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.contract.ledgers import LEDGERS
from flows.privacy.masking import (
    id_kind_expr,
    id_valid_expr,
    keyed_hash,
    keyed_hashes,
    mask_free_text,
    mask_person_name,
)
from flows.privacy.protect import free_text_columns, masked_text, name_keys, protect

KEY = "k" * 64


def reference_name_keys(rows: pl.DataFrame, name: str, key: str) -> pl.Series:
    exploded = rows.select(pl.int_range(pl.len()).alias("_i"), pl.col(name)).explode(name)
    distinct = exploded[name].drop_nulls().unique()
    hashed = dict(zip(distinct.to_list(), keyed_hash(distinct, key).to_list(), strict=True))
    grouped = (
        exploded.with_columns(pl.col(name).replace_strict(hashed, default=None, return_dtype=pl.Utf8).alias("_k"))
        .group_by("_i", maintain_order=True)
        .agg(pl.col("_k").drop_nulls())
        .sort("_i")
    )
    return grouped["_k"].alias(f"{name}_keys")


def reference_protect(rows: pl.DataFrame, ledger, key: str) -> pl.DataFrame:
    derived, keys = [], {}
    for column in ledger.columns:
        name, col = column.name, pl.col(column.name)
        if column.personal in ("person_name", "id_number", "phone") and column.type != "names":
            keys[f"{name}_key"] = keyed_hash(rows[name], key)
        if column.personal == "id_number":
            derived += [id_kind_expr(col).alias(f"{name}_kind"), id_valid_expr(col).alias(f"{name}_valid")]
        if column.type == "names":
            keys[f"{name}_keys"] = reference_name_keys(rows, name, key)
    out = rows.with_columns(derived).with_columns(**keys) if derived or keys else rows
    masks = []
    for column in ledger.columns:
        col = pl.col(column.name)
        if column.personal == "person_name" and ledger.code == "cases":
            masks.append(pl.when(pl.col("party_type") == "单位").then(mask_free_text(col))
                         .otherwise(mask_person_name(col)).alias(column.name))
        elif column.type == "names" and column.personal:  # name by name, as a person's name
            masks.append(pl.col(column.name).map_elements(
                lambda names: [mask_one_name(n) for n in names], return_dtype=pl.List(pl.Utf8)))
        elif column.personal:
            masks.append(masked_text(col, column).alias(column.name))
        elif column.name in free_text_columns(ledger) and column.name in rows.columns:
            masks.append(mask_free_text(col).alias(column.name))
    return out.with_columns(masks) if masks else out


def mask_one_name(name: str | None) -> str | None:
    return pl.select(mask_person_name(pl.lit(name, dtype=pl.Utf8))).item()


texts = st.none() | st.text(alphabet="王李欧阳0123456789X 　-·138公司", max_size=20)
ids = st.none() | st.sampled_from(["110101199003070011", "91350100M000100Y43", "11010119900307001X", "abc"]) | texts
names = st.none() | st.lists(st.none() | st.sampled_from(["王一", "李二", "张三", ""]), max_size=4)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(texts, ids, texts, st.sampled_from(["个人", "单位", None])), max_size=30))
def test_protect_cases_matches_reference(cells):
    schema = {"party": pl.Utf8, "party_id": pl.Utf8, "phone": pl.Utf8, "party_type": pl.Utf8}
    rows = pl.DataFrame(cells, schema=schema, orient="row")
    # Chunked input, as a flush concatenates units.
    rows = pl.concat([rows.head(len(cells) // 2), rows.tail(len(cells) - len(cells) // 2)], rechunk=False)
    ledger = LEDGERS["cases"]
    assert protect(rows, ledger, KEY).equals(reference_protect(rows, ledger, KEY))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(names, texts), max_size=30))
def test_protect_inspections_and_hotline_match_reference(cells):
    rows = pl.DataFrame(cells, schema={"officers": pl.List(pl.Utf8), "content": pl.Utf8}, orient="row")
    for code in ("inspections", "hotline"):
        ledger = LEDGERS[code]
        assert protect(rows, ledger, KEY).equals(reference_protect(rows, ledger, KEY))


@settings(max_examples=60, deadline=None)
@given(st.lists(names, max_size=40))
def test_name_keys_matches_reference(lists):
    rows = pl.DataFrame({"officers": lists}, schema={"officers": pl.List(pl.Utf8)})
    assert name_keys(rows, "officers", KEY).equals(reference_name_keys(rows, "officers", KEY))


def test_name_keys_values():
    rows = pl.DataFrame({"o": [["王一", None, "李二"], None, [], ["王一"]]}, schema={"o": pl.List(pl.Utf8)})
    one, two = keyed_hash(pl.Series(["王一", "李二"]), KEY).to_list()
    assert name_keys(rows, "o", KEY).to_list() == [[one, two], [], [], [one]]


def test_keyed_hashes_match_keyed_hash_column_by_column():
    frame = pl.DataFrame({"a": ["x", None, "y"], "b": [None, "z", "x"]})
    hashed = keyed_hashes(frame, KEY)
    assert hashed.columns == ["a", "b"]
    for name in frame.columns:
        assert hashed[name].to_list() == keyed_hash(frame[name], KEY).to_list()
    assert keyed_hashes(frame.select([]), KEY).width == 0
