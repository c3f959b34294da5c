"""Formulas of an .xls (BIFF) sheet saved without a computed result, found in its records.

xlrd keeps a formula cell's cached result only, and reads a result saved as the empty
string as the text '' (xlrd/sheet.py, the FORMULA branch of `Sheet.read`). Programs that do
not calculate write every formula so: xlwt stores the result 0xFFFF000000000003, the empty
string, for each formula it writes (xlwt/BIFFRecords.py, `FormulaRecord`). Excel and WPS
calculate such a file when they open it, so the clerk sees a value that the file does not hold.

The FORMULA record (BIFF5/8 id 0x0006; BIFF3 0x0206, BIFF4 0x0406) holds row, column, XF and
the 8-byte result; a result whose last two bytes are FF FF and whose first byte is 3 is the
empty string. A program that calculates writes the empty string only where a formula really
gives "" (`=IF(B2="","",…)`), beside numbers, texts and errors of its other formulas. So a
sheet is read as saved without results when it has formulas and every one of them holds the
empty string; a sheet with one formula of another result keeps its "" cells as blank.
"""

from __future__ import annotations

from struct import unpack_from

FORMULA_IDS = frozenset((0x0006, 0x0206, 0x0406))
BOF_IDS = frozenset((0x0009, 0x0209, 0x0409, 0x0809))
EOF_ID = 0x000A
EMPTY_STRING_RESULT = 3


def without_result(book, index: int) -> dict[tuple[int, int], str]:
    """The formula cells of sheet `index` saved without a result: (row, col) 0-based → the
    formula as xlrd decompiles it (`=B1*3.0`; "" when it cannot). Empty when the sheet's
    formulas hold results, or when the sheet's records cannot be walked (xlrd read them)."""
    mem = getattr(book, "mem", None)
    positions = getattr(book, "_sh_abs_posn", None)
    if not mem or positions is None or index >= len(positions):
        return {}
    # BIFF2 packs the cell's attributes in 3 bytes where later versions keep a 2-byte XF index.
    result_at = 6 if book.biff_version >= 30 else 7
    empty: dict[tuple[int, int], bytes] = {}
    pos, depth, end = positions[index], 0, len(mem)
    while pos + 4 <= end:
        code, length = unpack_from("<HH", mem, pos)
        data = mem[pos + 4:pos + 4 + length]
        pos += 4 + length
        if code in BOF_IDS:
            depth += 1  # a chart's substream inside the sheet's is nested
        elif code == EOF_ID:
            depth -= 1
            if depth <= 0:
                break
        elif code in FORMULA_IDS and depth == 1 and length >= result_at + 8:
            result = data[result_at:result_at + 8]
            if result[6:8] != b"\xff\xff" or result[0] != EMPTY_STRING_RESULT:
                return {}  # the writer calculated: its "" results are what Excel shows
            row, col = unpack_from("<HH", data)
            empty[(row, col)] = data
    return {cell: formula_text(book, data, *cell) for cell, data in empty.items()}


def formula_text(book, data: bytes, row: int, col: int) -> str:
    """A FORMULA record's formula as xlrd decompiles it, or "" (BIFF8 layout only)."""
    if book.biff_version < 80 or len(data) < 22:
        return ""
    from xlrd.formula import FMLA_TYPE_CELL, decompile_formula

    try:
        (size,) = unpack_from("<H", data, 20)
        text = decompile_formula(book, data[22:], size, FMLA_TYPE_CELL, browx=row, bcolx=col)
    except Exception:  # a token xlrd cannot decompile: the cell still goes back, without its formula
        return ""
    return f"={text}" if text else ""
