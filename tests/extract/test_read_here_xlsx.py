"""Small .xlsx files are read in the run's own process only within bounds their bytes prove
(issue 11, point 6): the zip inflates as it declares, and every sheet's references keep the
grid small. Any other file is read by a worker, as before, and reads the same."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pebble
from ledgerfiles import write_xlsx
from test_isolation import (
    SMALL,
    expected,
    far_cell_workbook,
    figures,
    inspections,
    raw_xlsx,
    run,
    write_month,
)

from flows.extract import inbox, isolation, xlsx_marks

COLUMNS = 40  # what HERE_CELLS gives: 4,000,000 cells over rows below 100,000


def zip_of(members: dict[str, bytes], comment: bytes = b"") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
        z.comment = comment
    return out.getvalue()


def declared_shorter(data: bytes, name: str, keep: int) -> bytes:
    """The zip with `name` declared as its first `keep` bytes (with their CRC), its stream unchanged:
    Python's zipfile reads the short part, another reader inflates the whole stream."""
    z = zipfile.ZipFile(io.BytesIO(data))
    info = z.getinfo(name)
    crc = zlib.crc32(z.read(name)[:keep])
    out = bytearray(data)
    struct.pack_into("<I", out, info.header_offset + 14, crc)  # local header: CRC, then sizes
    struct.pack_into("<I", out, info.header_offset + 22, keep)
    central = out.index(b"PK\x01\x02" + data[z.start_dir + 4:z.start_dir + 16], z.start_dir)
    for entry in range(len(z.infolist())):
        at = out.index(b"PK\x01\x02", central)
        name_length = struct.unpack_from("<H", out, at + 28)[0]
        if bytes(out[at + 46:at + 46 + name_length]) == name.encode():
            struct.pack_into("<I", out, at + 16, crc)
            struct.pack_into("<I", out, at + 24, keep)
        central = at + 46 + name_length + sum(struct.unpack_from("<HH", out, at + 30))
        del entry
    return bytes(out)


def test_a_zip_that_inflates_as_it_declares_passes(tmp_path: Path) -> None:
    path = write_month(tmp_path, 3, [2, 3])
    data = path.read_bytes()
    assert xlsx_marks.inflates_as_declared(zipfile.ZipFile(io.BytesIO(data)), data)


def test_a_part_longer_than_declared_does_not_pass() -> None:
    data = declared_shorter(zip_of({"a.xml": b"<x>" + b"1" * 5000 + b"</x>"}), "a.xml", keep=10)
    z = zipfile.ZipFile(io.BytesIO(data))
    assert len(z.read("a.xml")) == 10  # Python's zipfile is content with the declared size
    assert not xlsx_marks.inflates_as_declared(z, data)


def test_zips_that_could_be_read_another_way_do_not_pass() -> None:
    with_comment = zip_of({"a.xml": b"<x/>"}, comment=b"PK")
    assert not xlsx_marks.inflates_as_declared(zipfile.ZipFile(io.BytesIO(with_comment)), with_comment)
    prefixed = b"\0" * 64 + zip_of({"a.xml": b"<x/>"})
    assert not xlsx_marks.inflates_as_declared(zipfile.ZipFile(io.BytesIO(prefixed)), prefixed)
    large = zip_of({"a.xml": b"1" * (1 << 20)})
    assert not xlsx_marks.inflates_as_declared(zipfile.ZipFile(io.BytesIO(large)), large, max_bytes=1 << 19)


SHEET = '<worksheet><sheetData>{}</sheetData></worksheet>'


def test_a_sheet_whose_references_stay_small_is_within() -> None:
    rows = '<row r="1"><c r="A1"><v>1</v></c><c r="AN1" s="1"><v>2</v></c></row><row r="99999"><c r="B99999"><v>3</v></c></row>'
    assert xlsx_marks.extent_within(SHEET.format(rows).encode(), COLUMNS)
    assert not xlsx_marks.scan_sheet(SHEET.format(rows).encode(), "S", here_columns=COLUMNS).unbounded


def test_a_sheet_beyond_the_bounds_or_without_references_is_not_within() -> None:
    beyond = [
        '<row r="100000"><c r="A100000"><v>1</v></c></row>',  # row 100,000
        '<row r="2"><c r="AO2"><v>1</v></c></row>',  # the 41st column
        '<row r="2"><c r="XFD2"><v>1</v></c></row>',  # Solver's far cell
        '<row r="2"><c><v>1</v></c></row>',  # placed by its order
        '<row><c r="A1"><v>1</v></c></row>',
        '<row r="2"><c s="1" r="A2"><v>1</v></c></row>',  # its reference not first
    ]
    for rows in beyond:
        data = SHEET.format(rows).encode()
        assert not xlsx_marks.extent_within(data, COLUMNS), rows
        assert xlsx_marks.scan_sheet(data, "S", here_columns=COLUMNS).unbounded, rows


def test_a_small_workbook_is_read_here_as_a_worker_reads_it(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "inspections" / "2024-03.xlsx", {"S": inspections([2, 3])})
    [source] = inbox.discover(tmp_path)
    assert isolation.readable_here(source) and path.exists()
    here, there = isolation.read_here(source), isolation.read_guarded(source)
    assert here is not None
    [(a), (b)] = [[(u.unit.grid.frame.rows(), u.match) for u in read] for read in (here, there)]
    assert a == b


def test_workbooks_beyond_the_bounds_go_to_a_worker(tmp_path: Path) -> None:
    far_cell_workbook(tmp_path / "inspections" / "2024-04.xlsx")
    raw_xlsx(tmp_path / "inspections" / "2024-05.xlsx", '<row r="1"><c><v>1</v></c></row>')
    path = write_month(tmp_path, 6, [1])
    data = declared_shorter(path.read_bytes(), "xl/worksheets/sheet1.xml", keep=100)
    path.write_bytes(data)
    sources = inbox.discover(tmp_path)
    assert len(sources) == 3 and all(isolation.readable_here(s) for s in sources)
    assert [isolation.read_here(s) for s in sources] == [None, None, None]


def test_a_run_of_small_workbooks_starts_no_reader_process(tmp_path: Path, monkeypatch) -> None:
    inbox_, warehouse = tmp_path / "inbox", tmp_path / "wh" / "tally.duckdb"
    write_month(inbox_, 3, [2, 3])
    write_month(inbox_, 4, [4])

    def no_pool(*_args, **_kwargs):
        raise AssertionError("a reader pool was started")

    monkeypatch.setattr(pebble, "ProcessPool", no_pool)
    result = run(inbox_, warehouse, **SMALL)
    assert result.summary.files_loaded == 2 and figures(warehouse) == expected(2, 3, 4)
