"""Read a ledger file into grids of raw cell text, one per sheet, keeping spreadsheet row numbers.

A grid is a polars DataFrame of Utf8 columns `c0`, `c1`, … holding every cell as text (null
when empty), and `_row`: the row number as the spreadsheet shows it. Nothing is interpreted
here; finding the header and typing the values happen later.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from pathlib import Path
from xml.etree import ElementTree

import fastexcel
import numpy as np
import polars as pl

from flows.errors import Rejected
from flows.extract import number_formats, xlsx_marks
from flows.extract.grid import (  # noqa: F401  (the readers' types, imported from here too)
    EMPTY_MARKS,
    MARK_KINDS,
    MARKS_SCHEMA,
    Grid,
    MergedRange,
    empty_marks,
    without_invisible,
)

# calamine logs a line for every all-text column it cannot type; every ledger column is
# read as text on purpose, so those lines are noise to a clerk.
logging.getLogger("fastexcel").setLevel(logging.ERROR)

FORMATS = {".xlsx": "xlsx", ".xls": "xls", ".csv": "csv"}
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
UTF8_BOM = b"\xef\xbb\xbf"
# A file above this size is no ledger (the largest real ones are a few MB).
MAX_FILE_BYTES = 1 << 30
# An .xlsx up to this size is held in memory while it is read (its zip opened once).
ZIP_IN_MEMORY_BYTES = 64 << 20
# C0 controls but tab, LF and CR, and DEL: bytes that only ever mean themselves in UTF-8.
CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


@dataclass(frozen=True)
class Sheet:
    """One sheet of a workbook (a CSV is a single sheet named None)."""

    name: str | None
    visible: bool
    index: int


def file_format(path: Path, head: bytes) -> str:
    """Return xlsx, xls or csv, or reject a file whose name or content is not one of them."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise Rejected(
            f"文件类型「{path.suffix or '无扩展名'}」不受支持，请另存为 .xlsx、.xls 或 .csv 后重新提交",
            rule="wrong_extension",
        )
    if not head:
        raise Rejected("文件为空（0 字节）", rule="empty_file")
    kind = FORMATS[suffix]
    if head.startswith(OLE_MAGIC) and kind == "xlsx":
        raise Rejected(
            "文件已加密（设置了打开密码）或实为旧版 .xls 格式，请去掉密码、另存为 .xlsx 后重新提交",
            rule="encrypted",
        )
    if kind == "xlsx" and not head.startswith(ZIP_MAGIC):
        raise Rejected("文件扩展名为 .xlsx，但内容不是 Excel 工作簿（文件已损坏或扩展名错误）",
                       rule="corrupt")
    if kind == "xls" and not head.startswith(OLE_MAGIC):
        if head.startswith(ZIP_MAGIC):
            raise Rejected("文件扩展名为 .xls，但内容是 .xlsx 工作簿，请更正扩展名后重新提交",
                           rule="wrong_extension")
        raise Rejected(f"文件扩展名为 .xls，但内容{not_a_workbook(head)}", rule="corrupt")
    if kind == "csv" and (head.startswith(ZIP_MAGIC) or head.startswith(OLE_MAGIC)):
        raise Rejected("文件扩展名为 .csv，但内容是 Excel 工作簿，请更正扩展名后重新提交",
                       rule="wrong_extension")
    return kind


def not_a_workbook(head: bytes) -> str:
    """What a file named .xls holds instead of a workbook, as far as its first bytes tell, and what to do.

    Business systems often export a web page (HTML) or an "XML 电子表格 2003" under .xls, and
    Excel opens both after a warning; a text file (CSV or tab-separated) is the other common case.
    """
    text = head.removeprefix(UTF8_BOM).lstrip()
    if text.startswith(b"<"):
        return ("是网页（HTML）或 XML 表格（常见于业务系统导出），不是 Excel 工作簿；"
                "请在 Excel/WPS 中打开后另存为 .xlsx 后重新提交")
    if text.startswith((b"\xff\xfe", b"\xfe\xff")) or looks_like_text(text):
        return ("是文本（如 CSV 或制表符分隔的文本），不是 Excel 工作簿；"
                "请在 Excel/WPS 中打开后另存为 .xlsx 后重新提交")
    return "不是 Excel 工作簿（文件已损坏或扩展名错误）"


def looks_like_text(head: bytes) -> bool:
    """Whether the first bytes of a file read as UTF-8 or GB18030 text (the last character may be cut)."""
    if not head or head.translate(None, CONTROL_BYTES) != head:
        return False
    for encoding in ("utf-8", "gb18030"):
        for cut in range(4):
            try:
                head[: len(head) - cut].decode(encoding)
                return True
            except UnicodeDecodeError:
                continue
    return False


def decode_text(data: bytes) -> str:
    """Decode CSV bytes: UTF-8 (with or without BOM), else GB18030 (a superset of GBK)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Rejected(
            "文件是 UTF-16 编码的「Unicode 文本」，不是 CSV；请在 Excel/WPS 中另存为「CSV UTF-8（逗号分隔）」"
            "或 .xlsx 后重新提交",
            rule="encoding",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # Some exporters put a UTF-8 byte-order mark before GBK text: the mark is wrong, and the
    # text, which decodes as GB18030 whole, is what the system wrote.
    try:
        return data.removeprefix(UTF8_BOM).decode("gb18030")
    except UnicodeDecodeError as exc:
        raise Rejected(
            f"无法识别 CSV 文件的编码（既不是 UTF-8 也不是 GBK/GB18030，第 {exc.start} 字节处出错）；"
            "请另存为「CSV UTF-8（逗号分隔）」或 .xlsx 后重新提交",
            rule="encoding",
        ) from exc


def utf8_csv(data: bytes) -> bytes:
    """Return CSV bytes as UTF-8 without BOM, rejecting a file with no content.

    A large file is looked at in native passes that hold no lock on the interpreter (polars'
    UTF-8 check, numpy's byte counts): the run reads CSVs in threads beside its parse, and a
    file decoded into a Python string held the others up (issue 16: ~2 s of the big 4M run).
    """
    if is_utf8(data):  # a UTF-8 file is its own UTF-8: nothing to decode or encode
        utf8 = data[len(UTF8_BOM):] if data.startswith(UTF8_BOM) else data
        blank = utf8_is_blank(utf8)
    else:
        text = decode_text(data)
        utf8 = text.encode("utf-8")
        blank = not text or text.isspace()
    if blank:
        raise Rejected("文件没有任何内容", rule="empty_file")
    # Control bytes (one 0x1F used to fail the whole file in polars) are dropped in one pass:
    # Excel and WPS show none of them. Zero-width characters are dropped where cells are
    # compared or parsed (textnorm); a free-text cell keeps them, unseen as they are.
    dropped = control_bytes_in(utf8)
    if dropped:
        if dropped * 10 > len(utf8):
            raise Rejected(
                "文件中大部分字符无法识别（不是文本 CSV，或编码不是 UTF-8/GBK）；"
                "请另存为「CSV UTF-8（逗号分隔）」或 .xlsx 后重新提交",
                rule="encoding",
            )
        utf8 = utf8.translate(None, CONTROL_BYTES)
    # Excel for Mac ("CSV (Macintosh)") ends lines with a bare CR; polars knows only LF.
    if b"\n" not in utf8 and b"\r" in utf8:
        utf8 = utf8.replace(b"\r", b"\n")
    return utf8


def is_utf8(data: bytes) -> bool:
    """Whether bytes are well-formed UTF-8, as Python's strict codec has it (no surrogates, no
    overlong forms): checked by polars (Rust's own check), ~10× faster than decoding them."""
    if data.isascii():
        return True
    view, start = memoryview(data), 0
    while start < len(data):
        # Chunks (a bounded copy each), cut before a byte that starts a character: a
        # well-formed text is well-formed in every chunk, and a malformed one in one of them.
        end = min(start + _UTF8_CHUNK, len(data))
        while start < end < len(data) and data[end] & 0xC0 == 0x80:
            end -= 1
        if end == start:  # no such byte in the chunk: on to the next one
            end = min(start + _UTF8_CHUNK, len(data))
            while end < len(data) and data[end] & 0xC0 == 0x80:
                end += 1
        try:
            pl.Series([bytes(view[start:end])], dtype=pl.Binary).cast(pl.Utf8)
        except pl.exceptions.PolarsError:
            return False
        start = end
    return True


_UTF8_CHUNK = 4 << 20


# Enough bytes to find a visible character near the start of any file that has one.
_BLANK_HEAD = 4096


def utf8_is_blank(utf8: bytes) -> bool:
    """Whether well-formed UTF-8 text is empty or only white space (str.isspace's notion).

    The head is decoded first: a file with content shows a visible character there, and a
    large file is then not decoded whole. (Its last character may be cut: dropped.)
    """
    head = utf8[:_BLANK_HEAD].decode("utf-8", errors="ignore")
    if head and not head.isspace():
        return False
    text = utf8.decode("utf-8")
    return not text or text.isspace()


# CONTROL_BYTES as counts numpy can take: all bytes below 0x20 but these, and these above it.
_NOT_CONTROL_BELOW_20 = sorted(set(range(0x20)) - set(CONTROL_BYTES))  # tab, LF, CR
_CONTROL_FROM_20 = sorted(b for b in CONTROL_BYTES if b >= 0x20)  # DEL


def control_bytes_in(utf8: bytes) -> int:
    """How many of the bytes are CONTROL_BYTES (numpy's count: the lock on the interpreter let go)."""
    buf = np.frombuffer(utf8, dtype=np.uint8)
    return (int(np.count_nonzero(buf < 0x20))
            - sum(int(np.count_nonzero(buf == b)) for b in _NOT_CONTROL_BELOW_20)
            + sum(int(np.count_nonzero(buf == b)) for b in _CONTROL_FROM_20))


def grid_extent(utf8: bytes, separator: str = ",") -> tuple[int, int]:
    """Return (the grid's width: the most separators on any one line, quotes not minded, plus
    one; the number of LF bytes)."""
    if b"\x1f" in utf8:  # not what the byte count below assumes: count as polars splits it
        lines = pl.read_csv(
            utf8, has_header=False, separator="\x1f", quote_char=None,
            schema={"line": pl.Utf8}, missing_utf8_is_empty_string=True,
        )  # fmt: skip
        return int(lines["line"].str.count_matches(separator, literal=True).max() or 0) + 1, utf8.count(b"\n")
    buf = np.frombuffer(utf8, dtype=np.uint8)
    commas = np.flatnonzero(buf == ord(separator))
    ends = np.flatnonzero(buf == ord("\n"))
    per_line = np.diff(np.searchsorted(commas, ends), prepend=0, append=commas.size)
    return int(per_line.max(initial=0)) + 1, int(ends.size)


# Set while a CSV is read in the run's own process (`flows.isolation.read_here`): a grid of
# more cells than this (one long line over many short ones: the padding is allocated) is left
# to a worker process, which is bounded in memory. An .xlsx read there is held to it too, and
# to the zip's checks (`open_workbook`, `xlsx_scan`).
CELL_BOUND: ContextVar[int | None] = ContextVar("cell_bound", default=None)


class BoundExceeded(Exception):
    """The file's grid or parts would exceed what the run's own process reads: a worker reads it."""


# Excel's separator hint, a first line `sep=;`: Excel splits the lines by that character and
# does not show the hint as a row.
_SEPARATOR_HINT = re.compile(rb"\Asep=([,;\t|])[ \t]*\r?\n", re.IGNORECASE)


def csv_grid(data: bytes) -> Grid:
    """Read CSV bytes into a grid; every line is a row, blank lines included."""
    utf8 = utf8_csv(data)
    separator = ","
    if utf8[:4].lower() == b"sep=" and (hint := _SEPARATOR_HINT.match(utf8)) is not None:
        separator, utf8 = hint.group(1).decode(), utf8[hint.end():]
        if not utf8.strip():
            raise Rejected("文件没有任何内容", rule="empty_file")
    # Rows may be ragged (a one-cell title line above a wide header): size the grid by the
    # widest line so that polars pads short rows instead of truncating long ones.
    width, newlines = grid_extent(utf8, separator)
    bound = CELL_BOUND.get()
    if bound is not None and width * (len(utf8) + 1) > bound and width * (newlines + 1) > bound:
        raise BoundExceeded(width)
    try:
        frame = pl.read_csv(
            utf8, has_header=False, truncate_ragged_lines=True, separator=separator,
            schema={f"c{i}": pl.Utf8 for i in range(width)},
        )  # fmt: skip
    except pl.exceptions.PolarsError as exc:
        line = unpaired_quote_line(utf8)
        if line is not None:
            raise Rejected(
                f"CSV 文件第 {line} 行的英文双引号（\"）没有配对，Excel 会把其后各行都读进同一个单元格；"
                "请在该行补上或删去引号后重新提交",
                rule="corrupt",
            ) from exc
        raise Rejected(f"CSV 文件格式有误，无法读取：{exc}", rule="corrupt") from exc
    # polars reads a CSV in many small chunks; one chunk per column makes every later pass cheaper.
    grid = with_row_numbers(frame.rechunk())
    # A one-byte search first (a memchr, 20× a two-byte one) spares every file without `=`.
    if b"=" in utf8 and b'="' in utf8:  # Excel's text formula
        grid = without_text_formulas(grid)
    # Excel writes a cell into a CSV as it shows it: a General cell of 12+ digits as
    # `6.40422E+17` (6 digits of an ID or a ticket number kept), an error cell as `#N/A`. One
    # byte search each spares a clean file.
    # The needle's last byte first: a one-byte search is a memchr, 20× a two-byte one.
    kinds = [kind for kind, needles in TEXT_MARKS if any(n[-1:] in utf8 and n in utf8 for n in needles)]
    return Grid(None, grid, marks=text_marks(grid, kinds) if kinds else empty_marks())


def unpaired_quote_line(utf8: bytes) -> int | None:
    """The line on which a quoted CSV field opens and never closes (RFC 4180 quoting), or None."""
    if utf8.count(b'"') % 2 == 0:
        return None
    quoted, opened, line = False, 0, 1
    for at in range(len(utf8)):
        byte = utf8[at]
        if byte == 0x22:  # a doubled quote inside a field toggles twice: still inside
            quoted = not quoted
            if quoted:
                opened = line
        elif byte == 0x0A:
            line += 1
    return opened if quoted else None


# A whole cell `="…"`: the form systems export an ID or a number with leading zeros in, so
# that Excel keeps its digits. Excel shows the text between the quotes.
_TEXT_FORMULA = r'^="([^"]*)"$'


def without_text_formulas(grid: pl.DataFrame) -> pl.DataFrame:
    """Read each CSV cell written `="0012…"` as Excel shows it: the text between the quotes."""
    cols = [c for c in grid.columns if c != "_row"]
    return grid.with_columns(
        pl.when(pl.col(c).str.contains(_TEXT_FORMULA))
        .then(pl.col(c).str.extract(_TEXT_FORMULA, 1))
        .otherwise(pl.col(c))
        .alias(c)
        for c in cols
    )


# A whole cell in Excel's scientific form with an exponent of 11 or more (12+ digits), and a
# whole cell that is one of Excel's error values.
_SCIENTIFIC = r"^\s*[+-]?[0-9](?:\.[0-9]+)?[Ee]\+?(?:1[1-9]|[2-9][0-9]|[0-9]{3,})\s*$"
_ERROR_TEXT = r"^\s*#(?:N/A|REF!|DIV/0!|VALUE!|NAME\?|NUM!|NULL!|SPILL!|CALC!|FIELD!|GETTING_DATA)\s*$"
TEXT_MARKS = (("lost_digits", (b"E+", b"e+")), ("error", (b"#",)))
_MAYBE_MARKED = r"#|[Ee]\+"
_TEXT_MARK_PATTERNS = {"lost_digits": _SCIENTIFIC, "error": _ERROR_TEXT}


def text_marks(grid: pl.DataFrame, kinds: list[str]) -> pl.DataFrame:
    """Marks for the cells of a text grid written as Excel shows a lost-digit number or an error."""
    cols = [c for c in grid.columns if c != "_row"]
    found = [
        grid.filter(pl.col(c).str.contains(_TEXT_MARK_PATTERNS[kind])).select(
            pl.col("_row"), pl.lit(int(c[1:]), pl.Int32).alias("col"), pl.lit(kind).alias("kind"),
            pl.col(c).str.strip_chars().alias("shown"), pl.lit(None, pl.Utf8).alias("detail"),
        )
        for kind in kinds for c in cols
    ]  # fmt: skip
    found = [f for f in found if f.height]
    return pl.concat(found).cast(MARKS_SCHEMA).sort("_row", "col") if found else empty_marks()


def with_text_marks(grid: Grid) -> Grid:
    """Mark the text cells of a workbook grid written as Excel shows an error or a lost-digit number.

    A text cell `#N/A` or `6.40422E+17` (values pasted from a CSV or another program) looks to
    the clerk exactly like an error cell or a number that lost its digits, and is treated the
    same: a CSV's cells are marked so by `csv_grid`. Cells the reader marked already keep
    their mark.
    """
    cols = [c for c in grid.frame.columns if c != "_row" and grid.frame[c].dtype == pl.Utf8]
    # One pass over the cells spares a sheet with neither `#` nor `E+` (nearly every one).
    if not cols or not grid.frame.select(pl.any_horizontal(pl.col(cols).str.contains(_MAYBE_MARKED)).any()).item():
        return grid
    found = text_marks(grid.frame, [kind for kind, _ in TEXT_MARKS])
    if not found.height:
        return grid
    marks = grid.marks if grid.marks is not None else empty_marks()
    found = found.join(marks.select("_row", "col"), on=["_row", "col"], how="anti")
    return replace(grid, marks=pl.concat([marks, found]).sort("_row", "col"))


def with_row_numbers(frame: pl.DataFrame) -> pl.DataFrame:
    """Name the columns c0…cN and add `_row`, the 1-based spreadsheet row number."""
    # Series by Series, not a select: a query plan costs more than the cells of a small sheet.
    columns = [s.alias(f"c{i}") if s.dtype == pl.Utf8 else s.cast(pl.Utf8).alias(f"c{i}")
               for i, s in enumerate(frame.get_columns())]
    rows = pl.Series("_row", np.arange(1, frame.height + 1, dtype=np.int32))
    return pl.DataFrame([rows, *columns])


@dataclass
class Workbook:
    """An opened .xlsx (calamine, plus its zip for what calamine does not read) or .xls (xlrd)."""

    path: Path
    kind: str  # "xlsx" or "xls"
    sheet_names: list[str]
    calamine: fastexcel.ExcelReader | None = None
    book: object | None = None  # an xlrd Book for .xls
    parts: dict[str, str] = field(default_factory=dict)  # .xlsx sheet name -> zip member
    hidden: set[str] | None = None  # .xlsx hidden sheet names, None when unreadable
    invisible: bool = False  # its shared strings hold control or zero-width characters
    recalc: bool = False  # Excel recalculates every formula on opening (fullCalcOnLoad)
    # Its shared strings may hold a text Excel shows like an error or a lost-digit number.
    marked_strings: bool = True
    # Cell styles whose number format shows a number otherwise than its value (`number_formats`).
    shown: dict = field(default_factory=dict)
    date1904: bool = False  # the 1904 date system (`Grid.date1904`)
    # The .xlsx's zip, over its bytes in memory: opened once for the workbook's parts and
    # every sheet's scan (opening a zip again cost ~0.4 ms a file); None when unreadable.
    zip: zipfile.ZipFile | None = field(default=None, repr=False)


def open_workbook(path: Path) -> Workbook:
    """Open an .xlsx (calamine) or .xls (xlrd), turning their failures into a clerk's reason."""
    check_size(path)
    if path.suffix.lower() == ".xls":
        # Imported here: xlrd is for .xls only, and a reader process of .xlsx files spares it.
        from flows.extract import xls_reader

        book = xls_reader.open_book(path)
        return Workbook(path, "xls", book.sheet_names(), book=book)
    parts: dict[str, str] = {}
    hidden: set[str] | None = None
    invisible = recalc = date1904 = False
    shown: dict = {}
    marked = True
    z: zipfile.ZipFile | None = None
    here = CELL_BOUND.get() is not None  # read in the run's own process: bounded by the bytes alone
    data: bytes | None = None
    try:
        # Read once here; the sheets' scans read their parts from it (a large file stays on disk).
        small = path.stat().st_size <= ZIP_IN_MEMORY_BYTES
        data = path.read_bytes() if small else None
        z = zipfile.ZipFile(io.BytesIO(data) if data is not None else path)
        xlsx_marks.check_zip(z)  # before calamine inflates anything
        if here and (data is None or not xlsx_marks.inflates_as_declared(z, data)):
            raise BoundExceeded(path.name)  # a worker, bounded in memory, reads it
        parts, hidden, recalc = xlsx_marks.sheet_parts(z)
        invisible, marked = xlsx_marks.shared_strings_flags(z)
        shown = number_formats.styles_shown(z)
        date1904 = xlsx_marks.date_1904(z)
    except (zipfile.BadZipFile, OSError):
        if here:
            raise BoundExceeded(path.name) from None
        z = None  # calamine says what is wrong below
    if here and hidden is None:  # the sheets' visibility would cost calamine a read of each sheet
        raise BoundExceeded(path.name)
    try:
        # In this process calamine reads the very bytes checked above, not the file again.
        reader = fastexcel.read_excel(data if here else str(path))
    except Exception as exc:  # calamine raises several error types for bad files
        raise Rejected(workbook_failure(exc), rule="corrupt") from exc
    return Workbook(path, "xlsx", list(reader.sheet_names), calamine=reader, parts=parts,
                    hidden=hidden, invisible=invisible, recalc=recalc, marked_strings=marked, shown=shown, zip=z,
                    date1904=date1904)


def workbook_failure(exc: Exception) -> str:
    text = str(exc).lower()
    if "password" in text or "encrypt" in text:
        return "文件已加密（设置了打开密码），请去掉密码后重新提交"
    return f"文件已损坏或不是有效的 Excel 工作簿，无法打开（{type(exc).__name__}）"


def sheets(reader: Workbook, path: Path | None = None) -> list[Sheet]:
    """List a workbook's sheets in order, with their visibility."""
    names = reader.sheet_names
    if reader.kind == "xls":
        from flows.extract import xls_reader

        return [Sheet(name, visible, i) for i, (name, visible) in enumerate(xls_reader.sheet_list(reader.book))]
    hidden = reader.hidden
    if hidden is not None:
        return [Sheet(name, name not in hidden, i) for i, name in enumerate(names)]
    out = []
    for i, name in enumerate(names):
        # Loading a sheet parses all of it; without a readable workbook part there is no cheaper way.
        sheet = reader.calamine.load_sheet(i, header_row=None, n_rows=1, dtypes="string")
        out.append(Sheet(name, sheet.visible == "visible", i))
    return out


def sheet_grid(reader: Workbook, sheet: Sheet) -> Grid:
    """Read every cell of one sheet as text; the first grid row is spreadsheet row 1."""
    if reader.kind == "xls":
        from flows.extract import xls_reader

        return with_text_marks(xls_reader.sheet_grid(reader.book, sheet.index, sheet.name))
    scan = xlsx_scan(reader, sheet)  # before calamine: it rejects a sheet calamine cannot hold
    if CELL_BOUND.get() is not None and (scan is None or scan.unknown_errors):
        raise BoundExceeded(sheet.name)  # unscanned, or to be read again patched: a worker reads it
    try:
        calamine = reader.calamine
        if scan is not None and scan.unknown_errors:
            calamine = fastexcel.read_excel(patched_workbook(reader, sheet, scan.unknown_errors))
        # skip_rows=0 keeps leading empty rows, so that grid row i is spreadsheet row i + 1.
        # Handed to polars through the Arrow C interface, not as a pyarrow batch: a reader
        # process then never imports pyarrow (0.13 CPU-s each), and the read costs no more.
        loaded = calamine.load_sheet(sheet.index, header_row=None, skip_rows=0, dtypes="string")
        frame = pl.DataFrame(loaded) if loaded.height else pl.DataFrame()
    except Exception as exc:
        raise Rejected(f"工作表「{sheet.name}」无法读取：{workbook_failure(exc)}", rule="corrupt") from exc
    if frame.width == 0:  # no cell holds a value; what the scan found of its layout still holds
        empty = Grid(sheet.name, pl.DataFrame(schema={"_row": pl.Int32}), marks=empty_marks())
        return apply_scan(empty, scan) if scan is not None else empty
    # calamine drops leading empty columns: pad them back, so that grid column cK is column K.
    if scan is not None and scan.min_col:
        pad = [pl.Series(f"_pad{i}", [None] * frame.height, dtype=pl.Utf8) for i in range(scan.min_col)]
        frame = pl.DataFrame([*pad, *frame.get_columns()])
    grid = Grid(sheet.name, with_row_numbers(frame))
    if reader.invisible or (scan is not None and scan.inline_strings and not scan.inline_text_clean):
        grid = replace(grid, frame=without_invisible(grid.frame))
    grid = apply_scan(grid, scan) if scan is not None else replace(grid, marks=empty_marks())
    if reader.shown:  # a zero-padded, percent, hidden or rounding number format: what Excel shows
        grid = with_shown_numbers(reader, sheet, grid)
    # Text that shows as an error or a lost-digit number comes from the shared strings or the
    # sheet's own (inline strings, formulas' text results): a sheet with none is spared the pass.
    if reader.marked_strings or scan is None or scan.inline_strings or scan.text_formulas:
        grid = with_text_marks(grid)
    return replace(grid, date1904=True) if reader.date1904 else grid


def with_shown_numbers(reader: Workbook, sheet: Sheet, grid: Grid) -> Grid:
    """Put the text Excel shows into the number cells whose format pads, scales or hides them,
    and mark those whose format rounds them to another number (`rounded`: shown, stored)."""
    member = reader.parts.get(sheet.name or "")
    if not member or reader.zip is None:
        return grid
    try:
        texts, rounded = number_formats.marks_and_texts(reader.zip.read(member), reader.shown)
    except (KeyError, OSError, zipfile.BadZipFile):
        return grid
    if grid.frame.width <= 1:
        return grid
    if rounded:
        found = pl.DataFrame([(row, col, "rounded", shown, stored) for row, col, shown, stored in rounded],
                             schema=MARKS_SCHEMA, orient="row")
        marks = grid.marks if grid.marks is not None else empty_marks()
        found = found.join(marks.select("_row", "col"), on=["_row", "col"], how="anti")
        grid = replace(grid, marks=pl.concat([marks, found]).sort("_row", "col"))
    if not texts:
        return grid
    return replace(grid, frame=replace_cells(grid.frame, texts, {}))


def xlsx_scan(reader: Workbook, sheet: Sheet) -> xlsx_marks.SheetScan | None:
    """Scan the sheet's XML part (None when the part cannot be found: calamine alone then)."""
    member = reader.parts.get(sheet.name or "")
    if not member:
        return None
    try:
        if reader.zip is not None:
            data = reader.zip.read(member)
        else:
            with zipfile.ZipFile(reader.path) as z:
                data = z.read(member)
    except (KeyError, OSError, zipfile.BadZipFile):
        return None
    bound = CELL_BOUND.get()  # in the run's own process: as many columns as keep the grid within it
    columns = None if bound is None else max(1, bound // 10**xlsx_marks.HERE_ROW_DIGITS)
    try:
        scan = xlsx_marks.scan_sheet(data, sheet.name, reader.recalc, here_columns=columns)
    except ElementTree.ParseError as exc:
        raise Rejected(
            f"工作表「{sheet.name}」无法读取：文件已损坏（工作表内容不是有效的 XML）", rule="corrupt"
        ) from exc
    if scan.unbounded:
        raise BoundExceeded(sheet.name)  # its grid is not bounded by its XML: a worker reads it
    return scan


def patched_workbook(reader: Workbook, sheet: Sheet, errors: set[str]) -> bytes:
    """The workbook's bytes with the sheet's newer error values as #N/A, for calamine to read."""
    member = reader.parts[sheet.name or ""]
    out = io.BytesIO()
    with zipfile.ZipFile(reader.path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == member:
                data = xlsx_marks.without_unknown_errors(data, errors)
            dst.writestr(info, data)
    return out.getvalue()


def apply_scan(grid: Grid, scan: xlsx_marks.SheetScan) -> Grid:
    """Put what the scan found into the grid: marks, replaced texts, hidden rows, merges."""
    frame = grid.frame
    texts = dict(scan.texts)
    for key, text in scan.numbers.items():
        texts.setdefault(key, text)
    if texts:
        frame = replace_cells(frame, texts, scan.numbers)
    marks = pl.DataFrame(scan.marks, schema=MARKS_SCHEMA, orient="row") if scan.marks else empty_marks()
    return replace(
        grid,
        frame=frame,
        hidden_rows=frozenset(scan.hidden_rows),
        filtered_rows=frozenset(scan.filtered_rows),
        hidden_columns=frozenset(scan.hidden_columns),
        merges=tuple(MergedRange(*m) for m in scan.merges),
        marks=marks,
    )


def replace_cells(
    frame: pl.DataFrame, texts: dict[tuple[int, int], str | None], numbers: dict[tuple[int, int], str]
) -> pl.DataFrame:
    """Set cells by (spreadsheet row, column); a number's text only where calamine gave a number."""
    height = max(frame.height, *(row for row, _ in texts))
    if height > frame.height:  # a marked cell below calamine's last row (a formula with no result)
        rows = pl.Series("_row", np.arange(1, height + 1, dtype=np.int32))
        frame = pl.DataFrame([rows, *(c.extend_constant(None, height - frame.height) for c in frame.get_columns()[1:])])
    by_col: dict[int, list[tuple[int, str | None]]] = {}
    for (row, col), text in texts.items():
        if row >= 1:
            by_col.setdefault(col, []).append((row, text))
    columns = {name: frame[name] for name in frame.columns}
    for col, cells in by_col.items():
        name = f"c{col}"
        values = columns[name].to_list() if name in columns else [None] * height
        for row, text in cells:
            if (row, col) in numbers and text == numbers[(row, col)] and not xlsx_marks.is_number(values[row - 1]):
                continue  # a date cell: calamine's date text is what Excel shows
            values[row - 1] = text
        columns[name] = pl.Series(name, values, dtype=pl.Utf8)
    width = max(int(n[1:]) for n in columns if n != "_row") + 1
    blank = pl.Series([None] * height, dtype=pl.Utf8)
    return pl.DataFrame([columns["_row"], *(columns.get(f"c{k}", blank.alias(f"c{k}")) for k in range(width))])


def read_bytes(path: Path) -> bytes:
    """Read a whole file, turning an OS failure into a rejection."""
    check_size(path)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise Rejected(f"文件无法读取：{exc.strerror}", rule="unreadable") from exc


def check_size(path: Path) -> None:
    """Reject a file larger than any ledger (read whole, it would take that much memory)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise Rejected(f"文件无法读取：{exc.strerror}", rule="unreadable") from exc
    if size > MAX_FILE_BYTES:
        raise Rejected(
            f"文件有 {size / (1 << 20):,.0f} MB，超过上限 {MAX_FILE_BYTES >> 20} MB，台账文件不会这么大"
            "（可能不是台账或已损坏）；请检查后重新提交，确需这么多数据的请按月拆分",
            rule="too_large",
        )


def text_rows(grid: Grid, limit: int) -> list[list[str | None]]:
    """The first rows of a grid as Python lists (for header search, never for data)."""
    skip = grid.frame.columns.index("_row")
    return [[*r[:skip], *r[skip + 1:]] for r in grid.frame.head(limit).rows()]

