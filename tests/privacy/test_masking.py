import hashlib
from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.privacy.masking import (
    RESIDENT_CHECK,
    USCC_ALPHABET,
    id_kind_expr,
    id_valid_expr,
    keyed_hash,
    mask_free_text,
    mask_id_number,
    mask_person_name,
    mask_phone,
    valid_resident_id,
    valid_uscc,
)


def run(expr_fn, cells: list) -> list:
    frame = pl.DataFrame({"v": cells}, schema={"v": pl.Utf8})
    return frame.select(expr_fn(pl.col("v")).alias("out"))["out"].to_list()


# Names


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("王小明", "王某某"),
        ("王五", "王某"),
        ("欧阳娜娜", "欧阳某某"),
        ("司马光", "司马某"),
        ("诸葛亮", "诸葛某"),
        ("上官婉儿", "上官某某"),
        ("欧阳", "欧某"),  # two characters: a surname and a given name
        ("王", "王某"),
        (" 王 小明 ", "王某某"),
        ("买买提·艾力", "买某某·某某"),
        (None, None),
    ],
)
def test_mask_person_name(name, masked):
    assert run(mask_person_name, [name]) == [masked]


@settings(deadline=None)  # a shared machine: no wall-clock deadline
@given(st.lists(st.text(alphabet="王李张欧阳司马明华娟·", min_size=2, max_size=6), max_size=20))
def test_masked_names_keep_only_the_surname(names):
    for name, masked in zip(names, run(mask_person_name, names), strict=True):
        assert len(masked) == len(name)
        assert masked[0] == name[0]
        assert set(masked[2:]) <= {"某", "·"}


# ID numbers and phones


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("640422199001011234", "640422********1234"),
        ("64042219900101001X", "640422********001X"),
        (" 640422 199001011234 ", "640422********1234"),
        ("91640422MA76ABCD1X", "916404********CD1X"),
        ("12345678901", "123456*8901"),
        ("1234567890", "**********"),
        ("abc", "***"),
        (None, None),
    ],
)
def test_mask_id_number(value, masked):
    assert run(mask_id_number, [value]) == [masked]


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("0954-5012345", "095*****2345"),
        ("5012345", "*******"),
        (None, None),
    ],
)
def test_mask_phone(value, masked):
    assert run(mask_phone, [value]) == [masked]


@settings(deadline=None)  # a shared machine: no wall-clock deadline
@given(st.lists(st.text(alphabet="0123456789-X", max_size=25), max_size=20))
def test_masks_keep_length_and_ends(values):
    for value, masked in zip(values, run(mask_id_number, values), strict=True):
        assert len(masked) == len(value)
        if len(value) >= 11:
            assert masked[:6] == value[:6] and masked[-4:] == value[-4:]
            assert set(masked[6:-4]) <= {"*"}
        else:
            assert set(masked) <= {"*"}
    for value, masked in zip(values, run(mask_phone, values), strict=True):
        assert len(masked) == len(value)
        if len(value) >= 8:
            assert masked[:3] == value[:3] and masked[-4:] == value[-4:]


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            "群众（身份证640422199001011234，电话13812345678）反映网吧接纳未成年人",
            "群众（身份证640422********1234，电话138****5678）反映网吧接纳未成年人",
        ),
        ("640422199001011234,13812345678", "640422********1234,138****5678"),
        ("联系人64042219900101001x", "联系人640422********001x"),
        ("手机+86 138-1234-5678。", "手机+86 138****5678。"),
        ("座机0954-5012345", "座机095****2345"),
        (
            "编号20240305，金额1200元，14位12345678901234",
            "编号20240305，金额1200元，14位12345678901234",
        ),
        (None, None),
    ],
)
def test_mask_free_text(text, masked):
    assert run(mask_free_text, [text]) == [masked]


@settings(deadline=None)  # a shared machine: no wall-clock deadline
@given(
    st.lists(
        st.tuples(st.text(max_size=8), st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)),
        min_size=1,
        max_size=10,
    )
)
def test_free_text_never_shows_a_whole_mobile_number(parts):
    text = "；".join(f"{words}电话{phone}" for words, phone in parts)
    masked = run(mask_free_text, [text])[0]
    for _, phone in parts:
        assert phone not in masked


# Keyed hash


def test_keyed_hash_is_sha256_of_key_and_value():
    series = pl.Series("party", ["王小明", None, "640422199001011234", "王小明"])
    hashed = keyed_hash(series, "secret")
    expected = hashlib.sha256("secret王小明".encode()).hexdigest()[:16]
    assert hashed.name == "party"
    assert hashed.dtype == pl.Utf8
    assert hashed.to_list()[0] == expected
    assert hashed[1] is None
    assert hashed[0] == hashed[3] != hashed[2]
    assert keyed_hash(series, "other")[0] != expected


def test_keyed_hash_keeps_order_over_many_rows():
    values = [f"v{i}" for i in range(5000)]
    hashed = keyed_hash(pl.Series("v", values), "k").to_list()
    assert hashed[:3] == [hashlib.sha256(f"kv{i}".encode()).hexdigest()[:16] for i in range(3)]
    assert hashed[-1] == hashlib.sha256(b"kv4999").hexdigest()[:16]


def test_keyed_hash_of_empty_and_all_null_series():
    assert keyed_hash(pl.Series("v", [], dtype=pl.Utf8), "k").to_list() == []
    assert keyed_hash(pl.Series("v", [None, None]), "k").to_list() == [None, None]


def test_keyed_hash_key_is_bound_not_interpolated():
    key = "k'); DROP TABLE frame; --"
    assert (
        keyed_hash(pl.Series("v", ["a"]), key)[0]
        == hashlib.sha256((key + "a").encode()).hexdigest()[:16]
    )


# ID kinds and check characters

# The example of GB 11643-1999 itself, and a real enterprise's published credit code.
STANDARD_RESIDENT_ID = "11010519491231002X"
KNOWN_USCC = "9144030071526726XG"


def test_known_good_examples():
    assert valid_resident_id(STANDARD_RESIDENT_ID[:17]) == STANDARD_RESIDENT_ID
    assert valid_uscc(KNOWN_USCC[:17]) == KNOWN_USCC


def test_id_kinds_and_validity():
    cells = [
        STANDARD_RESIDENT_ID,
        "11010519491231002x",
        "110105194912310021",
        KNOWN_USCC,
        "9144030071526726XA",
        " ９１４４０３００７１５２６７２６ＸＧ ",
        "640422199001011",  # the old 15-digit ID
        "执法证123",
        "",
        None,
    ]
    assert run(id_kind_expr, cells) == [
        "resident_id",
        "resident_id",
        "resident_id",
        "uscc",
        "uscc",
        "uscc",
        "other",
        "other",
        None,
        None,
    ]
    assert run(id_valid_expr, cells) == [
        True,
        True,
        False,
        True,
        False,
        True,
        None,
        None,
        None,
        None,
    ]


def _resident_check(prefix: str) -> str:
    # Independent of the module: ISO 7064 MOD 11-2, the definition GB 11643 cites.
    total = sum(int(c) * (2 ** (17 - i) % 11) for i, c in enumerate(prefix))
    return "10X98765432"[total % 11]


RESIDENT_PREFIX = st.builds(
    lambda region, day, seq: f"{region}{day:%Y%m%d}{seq:03d}",
    st.integers(110000, 659999).map(str),
    st.dates(date(1900, 1, 1), date(2025, 12, 31)),
    st.integers(0, 999),
).filter(lambda p: len(p) == 17)


@settings(max_examples=40, deadline=None)
@given(st.lists(RESIDENT_PREFIX, min_size=1, max_size=20))
def test_resident_ids_check(prefixes):
    cells, expected = [], []
    for prefix in prefixes:
        full = valid_resident_id(prefix)
        assert full[-1] == _resident_check(prefix)
        cells += [prefix + c for c in RESIDENT_CHECK]
        expected += [prefix + c == full for c in RESIDENT_CHECK]
    assert run(id_kind_expr, cells) == ["resident_id"] * len(cells)
    assert run(id_valid_expr, cells) == expected


USCC_PREFIX = st.builds(
    lambda head, region, org: f"{head}{region}{org}",
    st.sampled_from(["11", "12", "31", "51", "52", "91", "92", "93", "Y1"]),
    st.integers(110000, 659999).map(str),
    st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(USCC_PREFIX, min_size=1, max_size=20))
def test_uscc_check(prefixes):
    cells, fulls = [], []
    for prefix in prefixes:
        full = valid_uscc(prefix)
        fulls.append(full)
        cells += [full, *(prefix + c for c in USCC_ALPHABET[:6] if c != full[-1])]
    for value, kind, ok in zip(
        cells, run(id_kind_expr, cells), run(id_valid_expr, cells), strict=True
    ):
        # An all-digit code whose middle reads as a birth date passes for a resident ID.
        assert kind in ("uscc", "resident_id")
        if kind == "uscc":
            assert ok == (value in fulls)


@settings(deadline=None)  # a shared machine: no wall-clock deadline
@given(st.lists(st.one_of(st.none(), st.text(max_size=20)), max_size=20))
def test_kind_and_validity_never_crash(cells):
    kinds = run(id_kind_expr, cells)
    valid = run(id_valid_expr, cells)
    for kind, ok in zip(kinds, valid, strict=True):
        assert kind in (None, "resident_id", "uscc", "other")
        assert (ok is None) == (kind in (None, "other"))


def test_helpers_reject_bad_prefixes():
    with pytest.raises(ValueError):
        valid_resident_id("1234")
    with pytest.raises(ValueError):
        valid_uscc("91440300715267IOZ")


def test_an_all_empty_column_of_dtype_null_stays_null():
    frame = pl.DataFrame({"v": [None, None]})
    for fn in (
        mask_person_name,
        mask_id_number,
        mask_phone,
        mask_free_text,
        id_kind_expr,
        id_valid_expr,
    ):
        assert frame.select(fn(pl.col("v")).alias("out"))["out"].to_list() == [None, None]
