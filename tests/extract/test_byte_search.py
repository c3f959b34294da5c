"""The byte search for invisible characters gives the answer of the regular expression it replaced."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from flows.extract.byte_search import has_invisible
from flows.extract.xlsx_marks import _INVISIBLE_XML

PATTERN = re.compile(_INVISIBLE_XML)

# Pieces that sit on or near the class's byte sequences: its characters, their neighbours,
# the escapes, cut-off sequences, stray continuation bytes and ordinary Chinese text.
PIECES = [
    b"\x7f", b"\x7e", "\u0080".encode(), "\u009f".encode(), "\u00a0".encode(), "\u00b7".encode(),
    "\u200a".encode(), "\u200b".encode(), "\u200c".encode(), "\u200d".encode(), "\u200e".encode(),
    "\u2060".encode(), "\u2061".encode(), "\u205f".encode(), "\ufeff".encode(), "\ufefe".encode(),
    "\uff0c".encode(), "\u2014".encode(), "检查".encode(), b"_x001F_", b"_x00zz_", b"_x00", b"_x0041_",
    b"\xc2", b"\xe2\x80", b"\xe2", b"\xef\xbb", b"\x80", b"\x8b", b"\xbf", b"\xa0", b"\xf0\x9f",
    b"<c r=\"A1\" t=\"inlineStr\"><is><t>", b"</t></is></c>", b"a", b" ",
]


def regex_answer(data: bytes, start: int, end: int) -> bool:
    """What the scan used to answer: the regular expression over the part decoded, bad bytes replaced."""
    return PATTERN.search(str(data[start:end], "utf-8", "replace")) is not None


@settings(max_examples=600)
@given(st.lists(st.sampled_from(PIECES), max_size=12), st.data())
def test_the_bytes_answer_as_the_decoded_text_does(pieces: list[bytes], data) -> None:
    blob = b"".join(pieces)
    start = data.draw(st.integers(0, len(blob)))
    end = data.draw(st.integers(start, len(blob)))
    assert has_invisible(blob, start, end) == regex_answer(blob, start, end)


def test_each_character_of_the_class_is_found_and_its_neighbours_are_not() -> None:
    found = [c for c in map(chr, range(0x20, 0x2100)) if has_invisible(f"检查{c}记录".encode())]
    assert found == ["\x7f", *map(chr, range(0x80, 0xA0)), "\u200b", "\u200c", "\u200d", "\u2060"]
    assert has_invisible("a\ufeffb".encode()) and not has_invisible("a\ufefeb".encode())
    assert has_invisible(b"<t>_x001F_</t>") and not has_invisible(b"<t>_x00GG_</t>")


def test_a_sequence_cut_off_by_the_end_of_the_range_is_not_found() -> None:
    blob = "ab\u200bcd".encode()
    assert has_invisible(blob, 0, len(blob))
    assert not has_invisible(blob, 0, 4)  # the range ends inside U+200B's three bytes
    assert not has_invisible(blob, 3, len(blob))  # and starts inside them
