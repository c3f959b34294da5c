"""What an .xlsx sheet's XML says that calamine does not: hidden rows and columns, merges,
error cells, formulas without a result, numbers that lost digits, and cells far outside the table.

calamine reads values only. The sheet part is scanned here before calamine loads it: one
cheap search decides whether the sheet holds anything of the kind; only then is the XML
parsed in detail. The same scan bounds the dense grid calamine would allocate, so that a
stray cell at XFD1048550 is rejected here instead of aborting the process.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from xml.etree import ElementTree

import polars as pl

from flows.errors import Rejected
from flows.extract.byte_search import has_invisible

# A dense grid above this many cells (rows × columns of the used box, from A1) is not read:
# calamine allocates every cell of it (about 32 bytes each), whatever the sheet holds.
MAX_GRID_CELLS = 20_000_000
MAX_COLUMNS = 2_000
# A zip member that inflates beyond these bounds is not opened (a "zip bomb").
MAX_MEMBER_BYTES = 1 << 30
MAX_TOTAL_BYTES = 1 << 30
MAX_RATIO = 1_000
RATIO_FLOOR_BYTES = 100 << 20
FAR_CELLS_SHOWN = 3


# Anything in sheetData that needs the detailed pass. Formulas with a cached value, and
# ordinary numbers, do not: the first alternatives are literal, the number ones start at `<v>`.
_MARKERS = (
    r'hidden="(?:1|true)"|t="e"|<c r="[A-Z]{3}'
    r"|</f>\s*(?:<v\s*/>|<v>\s*</v>|</c>|<v>[^<0-9.\-])|<f [^>]*/>\s*(?:</c>|<v\s*/>|<v>\s*</v>)"
    r"|<v>-?(?:[0-9]{16}|[0-9]*\.[0-9]{10}|[0-9.]+[Ee])"
)
_FIRST_COLUMN = re.compile(rb'<c r="A[0-9]+"[^>/]*>')
_ONE_LETTER = re.compile(rb'<c r="([A-Z])[0-9]+"[^>/]*>')  # a cell that holds something
_ROW_R = re.compile(rb'<row\b[^>]*?\sr="([0-9]+)"')
_REF = re.compile(r"([A-Z]+)([0-9]+)")
# The error values calamine reads; a newer one (#SPILL!, #CALC!, #FIELD!, …) fails its whole sheet.
CALAMINE_ERRORS = frozenset(("#N/A", "#REF!", "#DIV/0!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!"))


def without_unknown_errors(data: bytes, texts: set[str]) -> bytes:
    """The sheet XML with error values calamine refuses written as #N/A (the scan keeps the real text)."""
    for text in texts:
        data = data.replace(f"<v>{text}</v>".encode(), b"<v>#N/A</v>")
    return data


@dataclass
class SheetScan:
    """What the sheet XML holds beyond calamine's values (MARKS_SCHEMA rows in `marks`)."""

    min_col: int = 0  # the first column calamine keeps (it drops leading empty columns)
    hidden_rows: set[int] = field(default_factory=set)
    filtered_rows: set[int] = field(default_factory=set)
    hidden_columns: set[int] = field(default_factory=set)
    merges: list[tuple[int, int, int, int, str]] = field(default_factory=list)
    marks: list[tuple[int, int, str, str, str]] = field(default_factory=list)
    # cells whose grid text is replaced: (row, col) -> text
    texts: dict[tuple[int, int], str] = field(default_factory=dict)
    # number cells whose calamine text differs from Excel's 15 digits: (row, col) -> text
    numbers: dict[tuple[int, int], str] = field(default_factory=dict)
    # error texts calamine refuses (it fails the whole sheet on #SPILL!, #CALC!, …)
    unknown_errors: set[str] = field(default_factory=set)
    inline_strings: bool = False  # text held in the sheet itself, not in the shared strings
    # Its inline strings surely hold no control or zero-width character (found by the one
    # marker search a clean sheet costs), so the grid needs no pass to drop them.
    inline_text_clean: bool = False
    text_formulas: bool = False  # formulas whose result is text (t="str"), held in the sheet itself
    # Scanned for the run's own process (`here_columns`): its grid may exceed the bounds there.
    unbounded: bool = False


def col_index(letters: str) -> int:
    """Column letters to a 0-based index (A = 0, XFD = 16383)."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def col_letters(index: int) -> str:
    """A 0-based column index to its letters (0 = A)."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def check_zip(z: zipfile.ZipFile) -> None:
    """Reject a workbook whose members declare sizes no ledger needs (a zip bomb)."""
    total = 0
    for info in z.infolist():
        total += info.file_size
        mib = info.file_size / (1 << 20)
        if info.file_size > MAX_MEMBER_BYTES:
            raise Rejected(
                f"工作簿中的部件「{info.filename}」解压后有 {mib:,.0f} MB，超过上限 "
                f"{MAX_MEMBER_BYTES >> 20} MB（文件异常或被构造）；请检查文件内容后重新提交",
                rule="zip_bomb",
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > MAX_RATIO and info.file_size > RATIO_FLOOR_BYTES:
            raise Rejected(
                f"工作簿中的部件「{info.filename}」压缩比异常（{ratio:,.0f} 倍，解压后 {mib:,.0f} MB），"
                "文件异常或被构造；请检查文件内容后重新提交",
                rule="zip_bomb",
            )
    if total > MAX_TOTAL_BYTES:
        raise Rejected(
            f"工作簿解压后共有 {total / (1 << 20):,.0f} MB，超过上限 {MAX_TOTAL_BYTES >> 20} MB；"
            "请删除不需要的内容或拆分后重新提交",
            rule="zip_bomb",
        )


# Bounds of a workbook read in the run's own process (`flows.extract.isolation.read_here`),
# where no address-space limit stands behind them: every part of the zip inflated together at
# most this, and a sheet's grid within these rows and columns (4M cells, as a CSV read there).
HERE_INFLATED_BYTES = 32 << 20
HERE_ROW_DIGITS = 5  # rows numbered below 100,000 (a row number of six digits is beyond)
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, …, name length, extra field length
_ENCRYPTED, _DATA_DESCRIPTOR, _UTF8_NAME = 0x1, 0x8, 0x800


def inflates_as_declared(z: zipfile.ZipFile, data: bytes, max_bytes: int = HERE_INFLATED_BYTES) -> bool:
    """Whether the zip in `data` can be read one way only and each part inflates to exactly its
    declared size, all of them together to at most `max_bytes`.

    `check_zip` trusts the sizes the zip declares: Python's zipfile stops at them, but another
    reader (calamine's) inflates a part's whole stream, which may be longer. Here every part's
    stream is inflated (never beyond its declared size + 1 byte) and must end exactly there. One
    way only: the parts lie one after another from the first byte to the central directory,
    each local header names its part as the directory does, no name is listed twice, no part is
    encrypted or followed by a data descriptor, and there is no archive comment; Excel, WPS and
    the libraries write so. Any other zip is False: it is read where a memory limit holds.
    """
    infos = z.infolist()
    if z.comment or len({info.filename for info in infos}) != len(infos):
        return False
    if sum(info.file_size for info in infos) > max_bytes:
        return False
    offset = 0
    for info in sorted(infos, key=lambda i: i.header_offset):
        if info.header_offset != offset or info.flag_bits & (_ENCRYPTED | _DATA_DESCRIPTOR):
            return False
        if offset + _LOCAL_HEADER.size > len(data):
            return False
        signature, name_length, extra_length = _LOCAL_HEADER.unpack_from(data, offset)
        name_at = offset + _LOCAL_HEADER.size
        name = info.orig_filename.encode("utf-8" if info.flag_bits & _UTF8_NAME else "cp437")
        if signature != b"PK\x03\x04" or data[name_at:name_at + name_length] != name:
            return False
        start = name_at + name_length + extra_length
        end = start + info.compress_size
        if end > len(data):
            return False
        if info.compress_type == zipfile.ZIP_STORED:
            inflated = data[start:end]
            ended = True
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            try:
                inflated = inflater.decompress(memoryview(data)[start:end], info.file_size + 1)
            except zlib.error:
                return False
            ended = inflater.eof and not inflater.unused_data
        else:
            return False
        if not ended or len(inflated) != info.file_size or zlib.crc32(inflated) != info.CRC:
            return False
        offset = end
    return offset == z.start_dir


def extent_within(data: bytes, columns: int) -> bool:
    """Whether a sheet's XML keeps its grid within rows numbered below 10 ** HERE_ROW_DIGITS and
    `columns` columns from A (calamine allocates that box).

    Only when every row and every cell carries its reference first (`<row r="…`, `<c r="…`):
    then the references bound the grid, and one search finds any beyond it. Any other sheet is
    False (a cell without a reference is placed by its order, which no search bounds cheaply).
    """
    start = data.find(b"<sheetData")
    if start < 0:
        return b"<row" not in data and b"<c" not in data
    end = data.rfind(b"</sheetData>")
    end = len(data) if end < start else end
    if data.count(b"<row", start, end) != data.count(b'<row r="', start, end):
        return False
    if data.count(b"<c", start, end) != data.count(b'<c r="', start, end):
        return False
    return not contains(data, start, end, _beyond_here(columns)[1:])


# A row or cell tag whose first attribute is not its reference (or another tag starting so).
_UNREFERENCED = r'|<c(?:[^ ]| [^r]| r[^=]| r=[^"])|<row(?:[^ ]| [^r]| r[^=]| r=[^"])'


def _beyond_here(columns: int) -> str:
    """Pattern alternatives for a reference beyond the bounds of `extent_within`."""
    digits = HERE_ROW_DIGITS + 1  # a row number of this many digits is beyond
    return _FAR + _UNREFERENCED + wide_columns(columns) + rf'|<c r="[A-Z]+[0-9]{{{digits}}}|<row r="[0-9]{{{digits}}}'


# Control and zero-width characters as the XML holds them: `_x001F_` escapes or the characters.
_INVISIBLE_XML = r"_x00[0-9A-Fa-f]{2}_|[\x7f-\x9f\u200b-\u200d\u2060\ufeff]"


def strings_have_invisible(z: zipfile.ZipFile) -> bool:
    """Whether the shared strings hold characters Excel does not show (one search)."""
    try:
        data = z.read("xl/sharedStrings.xml")
    except KeyError:
        return False
    return has_invisible(data)  # the same answer as contains(…, _INVISIBLE_XML), cheaper


def shared_strings_flags(z: zipfile.ZipFile) -> tuple[bool, bool]:
    """Whether the shared strings hold characters Excel does not show (as `strings_have_invisible`),
    and whether they may hold a text shown like an error (`#`) or a lost-digit number (`E+`): the
    part inflated once for both, so that only such workbooks have their text cells checked."""
    try:
        data = z.read("xl/sharedStrings.xml")
    except KeyError:
        return False, False
    return has_invisible(data), b"#" in data or b"E+" in data or b"e+" in data


def sheet_parts(z: zipfile.ZipFile) -> tuple[dict[str, str], set[str] | None, bool]:
    """Map each sheet name to its part in the zip, name the hidden sheets (None: unknown), and
    say whether Excel recalculates every formula on opening (then a cached 0 is no result)."""
    try:
        book = ElementTree.fromstring(z.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return {}, None, False
    targets = {}
    for rel in rels.iter():
        if not rel.tag.endswith("Relationship"):
            continue
        target = rel.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
        targets[rel.get("Id")] = target
    # Any namespace: Strict OOXML files name the same elements under another URI.
    sheets = [el for el in book.iter() if el.tag.rpartition("}")[2] == "sheet"]
    parts = {
        el.get("name", ""): targets.get(
            next((v for k, v in el.attrib.items() if k.rpartition("}")[2] == "id"), ""), ""
        )
        for el in sheets
    }
    # calamine already shifts the dates of a 1904 workbook (<workbookPr date1904="1">): measured.
    hidden = {
        el.get("name", "")
        for el in sheets
        if el.get("state", "visible") != "visible"
    }
    # Programs that do not calculate ask Excel to (fullCalcOnLoad) and store 0 meanwhile:
    # xlsxwriter does so for every formula written without a value.
    recalc = any(
        el.tag.rpartition("}")[2] == "calcPr" and el.get("fullCalcOnLoad", "0").lower() in ("1", "true")
        for el in book
    )
    return parts, hidden, recalc


_DATE_1904 = re.compile(rb'<(?:\w+:)?workbookPr\b[^>]*?\sdate1904="(?:1|true)"')


def date_1904(z: zipfile.ZipFile) -> bool:
    """Whether the workbook uses the 1904 date system (`<workbookPr date1904="1">`)."""
    try:
        return _DATE_1904.search(z.read("xl/workbook.xml")) is not None
    except KeyError:
        return False


def scan_sheet(data: bytes, sheet: str | None, recalc: bool = False, here_columns: int | None = None) -> SheetScan:
    """Scan a sheet's XML: cheaply when it holds nothing special, in detail when it does.

    With `here_columns` (a read in the run's own process) the same search also finds what
    could take the grid beyond `extent_within`'s bounds; `unbounded` says the sheet is beyond.
    """
    start = data.find(b"<sheetData")
    end = data.rfind(b"</sheetData>")
    if start < 0:
        return SheetScan(unbounded=here_columns is not None and not extent_within(data, here_columns))
    empty = data.startswith(b"<sheetData/>", start)
    if here_columns is not None and not empty and end < start:
        return SheetScan(unbounded=True)  # cells calamine may read outside the searched range
    end = len(data) if end < 0 or empty else end
    head, tail = data[:start], data[end:]
    # A sheet with inline strings uses them from its first text cell on.
    scan = SheetScan(inline_strings=data.find(b'"inlineStr"', start, start + (1 << 16)) >= 0)
    if b"hidden=" in head or b'width="0' in head:
        scan.hidden_columns = hidden_columns(head)
    if b"<mergeCell " in tail or b"<mergeCell>" in tail:
        scan.merges = merges(tail)
    if empty:  # no cell: only the layout around it
        return scan
    scan.text_formulas = data.find(b't="str"', start, end) >= 0
    # A row of height 0 is as hidden to the clerk as one marked hidden (openpyxl and other
    # writers set the height alone); one search spares every other sheet.
    flat = zero_height_rows(data, start, end) if data.find(b'ht="0', start, end) >= 0 else set()
    # A cell in a column that would make the grid too large for this many rows (any
    # three-letter column is in _MARKERS) sends the sheet to the detailed pass, which measures.
    last_row = last_row_number(data, start)
    wide = wide_columns(MAX_GRID_CELLS // max(last_row, 1))
    # Invisible characters in inline strings: the same answer as adding _INVISIBLE_XML to the
    # pattern, at a tenth of its cost (its Unicode class slowed the whole search).
    # For the run's own process, anything that may take the grid beyond its bounds (see
    # `extent_within`) goes to the detailed pass as well, which measures it there.
    beyond = _beyond_here(here_columns) if here_columns is not None else ""
    detailed = contains(data, start, end, _MARKERS + wide + beyond + (_ZERO_RESULT if recalc else "")) or (
        scan.inline_strings and has_invisible(data, start, end)
    )
    if here_columns is not None and detailed and not extent_within(data, here_columns):
        scan.unbounded = True
        return scan
    first = first_column(data, start, end)
    if not detailed and first is not None:
        scan.min_col = first
        scan.inline_text_clean = scan.inline_strings
        scan.hidden_rows |= flat
        if flat:
            scan.filtered_rows = rows_in_filter(tail, scan.hidden_rows)
        return scan
    # A sheet whose rows and cells all carry `r` and hold no far cells is searched kind by
    # kind; any other goes through the XML parser (6 s for 100k rows × 10 columns).
    if first is None or contains(data, start, end, _FAR[1:] + wide) or not targeted(data, start, end, scan, recalc):
        scan = SheetScan(
            inline_strings=scan.inline_strings, hidden_columns=scan.hidden_columns, merges=scan.merges,
            text_formulas=scan.text_formulas,
        )
        detail(data, scan, sheet, recalc)
    else:
        scan.min_col = first
    scan.hidden_rows |= flat
    if scan.hidden_rows:
        scan.filtered_rows = rows_in_filter(tail, scan.hidden_rows)
    return scan


_ZERO_HEIGHT_ROW = re.compile(rb'<row\b[^>]*?\sr="([0-9]+)"[^>]*?\sht="0(?:\.0*)?"|<row\b[^>]*?\sht="0(?:\.0*)?"[^>]*?\sr="([0-9]+)"')


def zero_height_rows(data: bytes, start: int, end: int) -> set[int]:
    """Rows (numbered by their `r`) whose height is 0: Excel and WPS show them as hidden."""
    return {int(m.group(1) or m.group(2)) for m in _ZERO_HEIGHT_ROW.finditer(data, start, end)}


_FAR = r'|<c r="[A-Z]{3}'
_ZERO_RESULT = r"|</f>\s*<v>0</v>"
_HIDDEN_ROW = re.compile(rb'<row r="([0-9]+)"[^>]*?\shidden="(?:1|true)"')
_ERROR_CELL = re.compile(rb'<c r="([A-Z]+)([0-9]+)"[^>/]*?\st="e"[^>/]*>(.*?)</c>', re.S)
_FORMULA_CELL = re.compile(
    rb'<c r="([A-Z]+)([0-9]+)"([^>/]*)>(<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)(.*?)</c>', re.S
)
_NUMBER_CELL = re.compile(
    rb'<c r="([A-Z]+)([0-9]+)"([^>/]*)>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)?'
    rb"<v>(-?(?:[0-9]{16}|[0-9]*\.[0-9]{10}|[0-9.]+[Ee])[^<]*)</v>"
)
_NUMBERS = r"<v>-?(?:[0-9]{16}|[0-9]*\.[0-9]{10}|[0-9.]+[Ee])"
_TYPE = re.compile(rb'\st="([^"]*)"')
_V = re.compile(rb"<v>([^<]*)</v>")
_F_TEXT = re.compile(rb"<f\b([^>]*)>([^<]*)</f>")


def targeted(data: bytes, start: int, end: int, scan: SheetScan, recalc: bool = False) -> bool:
    """Find hidden rows, errors, formulas without results and long numbers by one search each.

    Only for rows and cells that all carry `r` first (Excel, WPS and the libraries write so);
    False leaves the sheet to the XML parser.
    """
    rows = data.count(b"<row", start, end)
    cells = data.count(b"<c ", start, end) + data.count(b"<c>", start, end)
    if rows != data.count(b'<row r="', start, end) or cells != data.count(b'<c r="', start, end):
        return False
    if data.find(b'hidden="', start, end) >= 0:
        scan.hidden_rows.update(int(m.group(1)) for m in _HIDDEN_ROW.finditer(data, start, end))
    if data.find(b't="e"', start, end) >= 0:
        for m in _ERROR_CELL.finditer(data, start, end):
            row, col, inner = int(m.group(2)), col_index(m.group(1).decode()), m.group(3)
            v = _V.search(inner)
            shown = (v.group(1).decode().strip() if v else "") or "#N/A"
            scan.marks.append((row, col, "error", shown, formula_bytes(inner)))
            scan.texts[(row, col)] = shown
            if shown not in CALAMINE_ERRORS:
                scan.unknown_errors.add(v.group(1).decode() if v else "")
    if data.find(b"</f>", start, end) >= 0 or data.find(b"<f ", start, end) >= 0:
        for m in _FORMULA_CELL.finditer(data, start, end):
            t = _TYPE.search(m.group(3))
            cell_type = t.group(1).decode() if t else None
            v = _V.search(m.group(5))
            value = v.group(1).decode() if v else None
            if cell_type in (None, "n") and (not is_number(value) or (recalc and value.strip() == "0")):
                row, col = int(m.group(2)), col_index(m.group(1).decode())
                scan.marks.append((row, col, "no_result", "", formula_bytes(m.group(4))))
                scan.texts[(row, col)] = None
                array = _ARRAY_REF.search(m.group(4))
                if array is not None:
                    ref = (array.group(1) or array.group(2)).decode()
                    array_without_result(scan, row, col, ref, formula_bytes(m.group(4)))
    if contains(data, start, end, _NUMBERS):
        for m in _NUMBER_CELL.finditer(data, start, end):
            t = _TYPE.search(m.group(3))
            if t is None or t.group(1) == b"n":
                number(scan, int(m.group(2)), col_index(m.group(1).decode()), m.group(4).decode())
    scan.marks.sort()
    return True


_ARRAY_REF = re.compile(rb'<f\b[^>]*?\st="array"[^>]*?\sref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"'
                        rb'|<f\b[^>]*?\sref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"[^>]*?\st="array"')
# An array formula's range marked cell by cell up to this many cells (a ledger column is far shorter).
MAX_ARRAY_CELLS = 100_000


def array_without_result(scan: SheetScan, row: int, col: int, ref: str, formula: str) -> None:
    """Mark every cell of an array formula's range when its first cell has no result.

    A program that does not calculate writes an array formula (`{=F2:F4*10}` over E2:E4) in the
    range's first cell and pads the others with 0 (xlsxwriter) or nothing; Excel and WPS show
    the computed values there, so none of those cells holds what the clerk sees.
    """
    a, _, b = ref.partition(":")
    (c1, r1), (c2, r2) = _REF.fullmatch(a).groups(), _REF.fullmatch(b).groups()
    rows = range(int(r1), int(r2) + 1)
    cols = range(col_index(c1), col_index(c2) + 1)
    if len(rows) * len(cols) > MAX_ARRAY_CELLS:
        rows = rows[: max(1, MAX_ARRAY_CELLS // len(cols))]
    marked = {(r, c) for r, c, *_ in scan.marks}
    for r in rows:
        for c in cols:
            if (r, c) != (row, col) and (r, c) not in marked:
                scan.marks.append((r, c, "no_result", "", formula))
                scan.texts[(r, c)] = None


def formula_bytes(xml: bytes) -> str:
    """The formula of a cell's XML as the formula bar shows it (see `formula_text`)."""
    from xml.sax.saxutils import unescape  # not at the top: it imports urllib.request (0.14 s)

    m = _F_TEXT.search(xml)
    if m is not None and m.group(2):
        return "=" + unescape(m.group(2).decode(), {"&quot;": '"', "&apos;": "'"})
    if m is None and b"<f" not in xml:
        return ""
    return "（共享公式）" if b't="shared"' in (m.group(1) if m else xml) else ""


def wide_columns(first: int) -> str:
    """A pattern alternative for cell refs of one or two letters at column index `first` or right."""
    if first >= 702:
        return ""
    if first < 26:
        return rf'|<c r="(?:[{chr(65 + first)}-Z]|[A-Z]{{2}})[0-9]'
    lead, second = divmod(first, 26)  # lead 1..26 is the first letter (A = 1)
    later = f"[{chr(65 + lead)}-Z][A-Z]|" if lead < 26 else ""
    return rf'|<c r="(?:{later}{chr(64 + lead)}[{chr(65 + second)}-Z])[0-9]'


def contains(data: bytes, start: int, end: int, pattern: str) -> bool:
    """Whether data[start:end] matches, in polars (Rust's regex: 3× Python's re on a small sheet)."""
    body = memoryview(data)[start:end]  # no copy of a large sheet
    try:  # polars checks the UTF-8 itself: half the cost of a Python str copied into a Series
        series = pl.Series([bytes(body)], dtype=pl.Binary).cast(pl.Utf8)
    except pl.exceptions.PolarsError:
        series = pl.Series([str(body, "utf-8", "replace")])
    return bool(series.str.contains(pattern).item())


def first_column(data: bytes, start: int, end: int) -> int | None:
    """The first column holding a value (calamine drops the empty ones before it), or None."""
    if _FIRST_COLUMN.search(data, start, end) is not None:
        return 0
    # Leading empty columns are the same in every row: the first cells name the candidate,
    # one search proves that no cell left of it holds anything.
    seen = [m.group(1) for _, m in zip(range(200), _ONE_LETTER.finditer(data, start, end), strict=False)]
    if not seen:
        return None
    low = min(seen)
    left = re.compile(rb'<c r="[A-' + bytes([low[0] - 1]) + rb'][0-9]+"[^>/]*>')
    return col_index(low.decode()) if left.search(data, start, end) is None else None


def last_row_number(data: bytes, start: int) -> int:
    """The last row's number: its `r`, or the count of rows when rows carry none."""
    at = data.rfind(b"<row", start)
    if at < 0:
        return 0
    match = _ROW_R.match(data, at)
    if match is not None:
        return int(match.group(1))
    return data.count(b"<row", start)


def hidden_columns(head: bytes) -> set[int]:
    """Hidden column indexes from `<cols>` (0-based)."""
    out: set[int] = set()
    for m in re.finditer(rb"<col\b[^>]*>", head):
        attrs = dict(re.findall(rb'(\w+)="([^"]*)"', m.group(0)))
        # A column of width 0 is as hidden to the clerk as one marked hidden.
        if attrs.get(b"hidden", b"0").lower() in (b"1", b"true") or zero_width(attrs.get(b"width")):
            lo, hi = int(attrs.get(b"min", b"1")), int(attrs.get(b"max", b"1"))
            out.update(range(lo - 1, min(hi, 16384)))
    return out


def zero_width(width: bytes | None) -> bool:
    """Whether a `<col>` width attribute says 0 (a column no one sees)."""
    try:
        return width is not None and float(width) == 0
    except ValueError:
        return False


def merges(tail: bytes) -> list[tuple[int, int, int, int, str]]:
    """Merged ranges as (first_row, last_row, first_col, last_col, ref)."""
    out = []
    for ref in re.findall(rb'<mergeCell\s+ref="([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)"', tail):
        text = ref.decode()
        a, _, b = text.partition(":")
        (c1, r1), (c2, r2) = _REF.fullmatch(a).groups(), _REF.fullmatch(b or a).groups()
        out.append((int(r1), int(r2), col_index(c1), col_index(c2), text))
    return out


def rows_in_filter(tail: bytes, hidden: set[int]) -> set[int]:
    """The hidden rows inside the sheet's AutoFilter range (hidden by the filter)."""
    m = re.search(rb'<autoFilter\s+ref="([A-Z]+)([0-9]+)(?::([A-Z]+)([0-9]+))?"', tail)
    if m is None:
        return set()
    first, last = int(m.group(2)), int(m.group(4) or m.group(2))
    return {r for r in hidden if first < r <= last}


def detail(data: bytes, scan: SheetScan, sheet: str | None, recalc: bool = False) -> None:
    """Parse the sheet cell by cell (rows and cells without `r` numbered in order)."""
    row_no = 0
    col_no = -1
    min_col = 16384
    max_col = -1
    used: list[tuple[int, int]] = []
    arrays: list[tuple[int, int, str, str]] = []  # array formulas without a result: (row, col, ref, formula)
    parser = ElementTree.iterparse(io.BytesIO(data), events=("start", "end"))
    for event, el in parser:
        tag = el.tag
        if tag.startswith("{"):
            tag = tag[tag.index("}") + 1:]
        if event == "start":
            if tag == "row":
                r = el.get("r")
                row_no = int(r) if r else row_no + 1
                col_no = -1
                if el.get("hidden", "0").lower() in ("1", "true") or zero_width(el.get("ht", "").encode() or None):
                    scan.hidden_rows.add(row_no)
            continue
        if tag != "c":
            if tag == "row":
                el.clear()
            continue
        ref = el.get("r")
        if ref:
            m = _REF.fullmatch(ref)
            col_no = col_index(m.group(1)) if m else col_no + 1
        else:
            col_no += 1
        cell_type = el.get("t")
        f = v = None
        has_value = False
        for child in el:
            name = child.tag[child.tag.index("}") + 1:] if child.tag.startswith("{") else child.tag
            if name == "f":
                f = child
            elif name == "v":
                v = child.text
                has_value = True
            elif name == "is":
                has_value = True
        if has_value:
            used.append((row_no, col_no))
            min_col = min(min_col, col_no)
            max_col = max(max_col, col_no)
        if cell_type == "e":
            shown = (v or "").strip() or "#N/A"
            scan.marks.append((row_no, col_no, "error", shown, formula_text(f)))
            scan.texts[(row_no, col_no)] = shown
            if shown not in CALAMINE_ERRORS:
                scan.unknown_errors.add(v or "")
        elif f is not None and cell_type in (None, "n") and (not is_number(v) or (recalc and v.strip() == "0")):
            scan.marks.append((row_no, col_no, "no_result", "", formula_text(f)))
            scan.texts[(row_no, col_no)] = None
            if f.get("t") == "array" and f.get("ref"):
                arrays.append((row_no, col_no, f.get("ref"), formula_text(f)))
        elif cell_type in (None, "n") and v and is_number(v):
            number(scan, row_no, col_no, v)
        el.clear()
    if max_col >= 0:
        scan.min_col = min_col
    check_extent(used, max_col, sheet)
    for row, col, ref, formula in arrays:  # after the cells: the range's own cells are read by now
        array_without_result(scan, row, col, ref, formula)
    scan.marks.sort()


def formula_text(f: ElementTree.Element | None) -> str:
    """The formula as Excel shows it in the formula bar (a shared formula's copies say so)."""
    if f is None:
        return ""
    if f.text:
        return "=" + f.text
    return "（共享公式）" if f.get("t") == "shared" else ""


def is_number(v: str | None) -> bool:
    """Whether a `<v>` holds a number."""
    if v is None:
        return False
    try:
        float(v)
    except ValueError:
        return False
    return v.strip() != ""


def number(scan: SheetScan, row: int, col: int, v: str) -> None:
    """Mark a number of 16+ integer digits; note one whose calamine text Excel would not show."""
    x = float(v)
    if abs(x) >= 1e15:
        shown = general_shown(x)
        scan.marks.append((row, col, "lost_digits", shown, v.strip()))
        scan.texts[(row, col)] = shown
        return
    digits = v.strip().lstrip("-").split("E")[0].split("e")[0].replace(".", "").lstrip("0")
    if len(digits) > 9 or "e" in v.lower():
        scan.numbers[(row, col)] = excel_number_text(x)


def excel_number_text(x: float) -> str:
    """A number as Excel shows it in the formula bar: 15 significant digits, no trailing zeros."""
    if x == 0:
        return "0"
    if abs(x) < 1e15 and x == int(x):
        return str(int(x))
    s = f"{x:.15g}"
    if "e" in s:
        mantissa, exp = s.split("e")
        return f"{mantissa}E{int(exp):+03d}"
    return s


def general_shown(x: float) -> str:
    """A number of 12+ digits as a General cell shows it: `6.40422E+17`."""
    mantissa, exp = f"{x:.5E}".split("E")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}E{exp[0]}{int(exp[1:]):02d}"


def check_extent(used: list[tuple[int, int]], max_col: int, sheet: str | None) -> None:
    """Reject a sheet whose used box (from A1) is too large for a dense grid, naming far cells."""
    if not used:
        return
    max_row = max(r for r, _ in used)
    if (max_col + 1) * max_row <= MAX_GRID_CELLS and max_col < MAX_COLUMNS:
        return
    # The table: cells taken in row order while the box stays within bounds.
    used.sort()
    table_rows = table_cols = 0
    far = []
    for r, c in used:
        rows, cols = max(table_rows, r), max(table_cols, c + 1)
        if not far and c < MAX_COLUMNS and rows * cols <= MAX_GRID_CELLS:
            table_rows, table_cols = rows, cols
        else:
            far.append((r, c))
    first = f"{col_letters(far[0][1])}{far[0][0]}"
    count = f"等 {len(far)} 个单元格" if len(far) > 1 else ""
    box = f"（表格在 A1:{col_letters(table_cols - 1)}{table_rows}）" if table_rows else ""
    where = f"工作表「{sheet}」" if sheet else "工作表"
    raise Rejected(
        f"{where}在 {first} {count}有内容，远在表格之外{box}，读取整张表需要过多内存；"
        "请删除表格以外的内容后重新提交",
        rule="far_cells",
    )
