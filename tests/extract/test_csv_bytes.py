"""The byte-level checks of a CSV (`utf8_csv`) agree with Python's own codec and str methods.

They run in native passes for speed (issue 16); these tests hold them to the definitions they
replace: strict UTF-8 decoding, `str.isspace`, and `bytes.translate` over CONTROL_BYTES.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.errors import Rejected
from flows.extract import readers
from flows.extract.readers import (
    CONTROL_BYTES,
    UTF8_BOM,
    control_bytes_in,
    is_utf8,
    utf8_csv,
    utf8_is_blank,
)

# Bytes that make UTF-8 well or ill formed: ASCII, CJK, a 4-byte character, lone lead and
# continuation bytes, an encoded surrogate, an overlong slash, GBK's 中文, controls, white space.
PIECES = [b"a", b",", b"\n", b"\r", "中".encode(), "𠀀".encode(), b"\xe4", b"\xb8", b"\x80",
          b"\xed\xa0\x80", b"\xc0\xaf", "中文".encode("gbk"), b"\x1f", b"\x00", b"\x7f", b"\t",
          b" ", "\u3000".encode(), "\u00a0".encode(), UTF8_BOM]  # fmt: skip
byte_strings = st.lists(st.sampled_from(PIECES), max_size=30).map(b"".join)


def python_is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@settings(max_examples=400, deadline=None)
@given(byte_strings)
def test_is_utf8_is_python_strict_decoding(data):
    assert is_utf8(data) == python_is_utf8(data)


@settings(max_examples=100, deadline=None)
@given(byte_strings, st.integers(min_value=1, max_value=7))
def test_is_utf8_gives_the_same_verdict_in_chunks(data, chunk):
    # Small chunks put a cut inside or beside every multi-byte character.
    saved = readers._UTF8_CHUNK
    readers._UTF8_CHUNK = chunk
    try:
        assert is_utf8(data) == python_is_utf8(data)
    finally:
        readers._UTF8_CHUNK = saved


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([" ", "\u3000", "\u00a0", "\t", "\n", "\r", "a", "中", "\u200b"]), max_size=20))
def test_blank_is_str_isspace(parts):
    text = "".join(parts)
    assert utf8_is_blank(text.encode()) == (not text or text.isspace())


def test_blank_looks_past_the_head_only_when_the_head_is_blank():
    assert utf8_is_blank(("\u3000" * 5000).encode())  # the head is cut inside a character
    assert not utf8_is_blank(("\u3000" * 5000 + "中").encode())
    assert not utf8_is_blank(b" " * 4095 + "中".encode())  # the head ends inside 中: it is read whole


@settings(max_examples=300, deadline=None)
@given(byte_strings)
def test_control_bytes_are_counted_as_translate_drops_them(data):
    assert control_bytes_in(data) == len(data) - len(data.translate(None, CONTROL_BYTES))


def test_utf8_csv_keeps_its_verdicts():
    assert utf8_csv(UTF8_BOM + "日期,场所\n".encode()) == "日期,场所\n".encode()
    assert utf8_csv("日期,场所\n".encode("gbk")) == "日期,场所\n".encode()
    assert utf8_csv("日期\x1f,场所\r".encode()) == "日期,场所\n".encode()
    for blank in (b"", UTF8_BOM, " \u3000\n".encode(), "\u3000".encode("gbk")):
        with pytest.raises(Rejected) as caught:
            utf8_csv(blank)
        assert caught.value.rule == "empty_file"
    with pytest.raises(Rejected) as caught:
        utf8_csv(b"ab" + b"\x01" * 10)
    assert caught.value.rule == "encoding"
