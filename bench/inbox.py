"""Build big benchmark inboxes fast: counties in parallel, CSVs with polars, .xlsx as polars-built XML.

Layout: <inbox>/<county>/<ledger>/<YYYY-MM>.csv|.xlsx (staff, a snapshot: <YYYY-MM>-28).
Generation time is not part of the measurement, but it counts toward `make bench`'s budget:
the counties are drawn in worker processes, and each .xlsx sheet is rendered as one string by
polars (the inline-string cells xlsxwriter's constant-memory mode writes) and zipped beside the
other parts of a workbook xlsxwriter made once, instead of one xlsxwriter call per cell.
A manifest beside the inbox (not in it: the pipeline would read it) lets a later bench reuse it.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import multiprocessing
import os
import shutil
import zipfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import xlsxwriter

from flows.contract.ledgers import LEDGERS, Ledger
from flows.extract.xlsx_marks import col_letters
from flows.sample.truth import truth_frames

YEAR = 2024
ROWS_PER_UNIT_SCALE = 1607  # rows of all ledgers of one county-year at scale 1.0
ROWS_PER_COUNTY = 100_000
XLSX_MONTHS = (1, 2)  # of every county and ledger: a sixth of the files are .xlsx
DATE_KEYS = {"cases": "filed_on", "hotline": "received_on"}  # registers: the month of a row
SHEET_PART = "xl/worksheets/sheet1.xml"
MANIFEST = "inbox-manifest.json"
ROOT = Path(__file__).resolve().parent.parent
# What decides an inbox's content: a change to any of these makes a stored inbox stale.
GENERATOR_SOURCES = ("bench/inbox.py", "flows/contract/ledgers.py", "flows/sample")


def county_count(rows: int) -> int:
    """Return how many counties an inbox of about `rows` rows spreads over."""
    return max(2, round(rows / ROWS_PER_COUNTY))


def as_sheet(frame: pl.DataFrame, ledger: Ledger) -> pl.DataFrame:
    """Return a ledger frame as the template's text columns, headed by the Chinese headers."""
    exprs = []
    for col in ledger.columns:
        e = pl.col(col.name)
        dtype = frame.schema[col.name]
        if isinstance(dtype, pl.List):
            e = e.list.join("、")
        elif dtype == pl.Boolean:
            e = pl.when(e).then(pl.lit("是")).when(~e).then(pl.lit("否"))
        elif dtype == pl.Date:
            e = e.dt.strftime("%Y-%m-%d")
        else:
            e = e.cast(pl.Utf8)
        exprs.append(e.alias(col.header))
    return frame.select(exprs)


def month_of(frame: pl.DataFrame, code: str) -> pl.Series:
    """Return the month of the file each row belongs in."""
    if "_month" in frame.columns:
        return frame["_month"]
    if code in DATE_KEYS:
        return frame[DATE_KEYS[code]].dt.month().cast(pl.Int64)
    return pl.Series([12] * frame.height)  # a snapshot: one file, December


def inline_cell(name: str, letter: str, row: pl.Expr) -> pl.Expr:
    """Return one column's cells as inline-string XML, empty where the value is null or ""."""
    value = pl.col(name).str.replace_all("&", "&amp;", literal=True) \
        .str.replace_all("<", "&lt;", literal=True).str.replace_all(">", "&gt;", literal=True)
    # As xlsxwriter does: keep leading or trailing blanks, which XML would otherwise drop.
    opening = pl.when(pl.col(name).str.contains(r"^\s|\s$")) \
        .then(pl.lit('<t xml:space="preserve">')).otherwise(pl.lit("<t>"))
    cell = pl.concat_str([pl.lit(f'<c r="{letter}'), row, pl.lit('" t="inlineStr"><is>'), opening,
                          value, pl.lit("</t></is></c>")])
    return pl.when(pl.col(name).is_not_null() & (pl.col(name) != "")).then(cell).otherwise(pl.lit(""))


def sheet_xml(sheet: pl.DataFrame) -> str:
    """Return a text sheet, header first, as the XML of an xlsx worksheet of inline strings."""
    letters = [col_letters(i) for i in range(sheet.width)]
    names = [f"c{i}" for i in range(sheet.width)]
    grid = pl.concat([pl.DataFrame([sheet.columns], schema=names, orient="row"),
                      sheet.rename(dict(zip(sheet.columns, names, strict=True)))])
    row = (pl.int_range(pl.len()) + 1).cast(pl.Utf8)
    rows = grid.select(pl.concat_str([pl.lit('<row r="'), row, pl.lit('">'),
                                      *[inline_cell(n, x, row) for n, x in zip(names, letters, strict=True)],
                                      pl.lit("</row>")]).str.join(""))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<dimension ref="A1:{letters[-1]}{grid.height}"/>'
            '<sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><sheetData>{rows.item()}</sheetData>'
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
            '</worksheet>')


@functools.cache
def workbook_parts() -> tuple[tuple[str, bytes], ...]:
    """Return the parts of a one-sheet workbook from xlsxwriter, its sheet left out."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"constant_memory": True, "in_memory": True})
    book.add_worksheet("Sheet1").write_string(0, 0, "x")
    book.close()
    with zipfile.ZipFile(buffer) as z:
        return tuple((info.filename, z.read(info)) for info in z.infolist() if info.filename != SHEET_PART)


def write_xlsx(path: Path, sheet: pl.DataFrame) -> None:
    """Write a text sheet as .xlsx: xlsxwriter's parts around a worksheet polars rendered."""
    # Level 1: a third of the time of the default for a slightly larger file, read as fast.
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, data in workbook_parts():
            z.writestr(name, data)
        z.writestr(SHEET_PART, sheet_xml(sheet))


def file_name(code: str, month: int, ext: str) -> str:
    """Return the file name of one ledger's month."""
    stem = f"{YEAR}-{month:02d}-28" if LEDGERS[code].kind == "snapshot" else f"{YEAR}-{month:02d}"
    return f"{stem}.{ext}"


def write_county(inbox: Path, county: str, seed: int, scale: float) -> dict:
    """Write one county's year of ledgers into the inbox; return its counts of rows and files."""
    made = {"rows": 0, "csv_files": 0, "xlsx_files": 0, "xlsx_rows": 0}
    for code, frame in truth_frames(YEAR, seed, scale).items():
        ledger = LEDGERS[code]
        folder = inbox / county / code
        folder.mkdir(parents=True, exist_ok=True)
        months = month_of(frame, code)
        sheet = as_sheet(frame, ledger)
        wanted = [12] if ledger.kind == "snapshot" else range(1, 13)
        for month in wanted:
            part = sheet.filter(months == month)
            made["rows"] += part.height
            if month in XLSX_MONTHS and ledger.kind != "snapshot":
                write_xlsx(folder / file_name(code, month, "xlsx"), part)
                made["xlsx_files"] += 1
                made["xlsx_rows"] += part.height
            else:
                part.write_csv(folder / file_name(code, month, "csv"))
                made["csv_files"] += 1
    return made


def county_scale(rows: int) -> float:
    """Return the truth_frames scale of each county of an inbox of about `rows` rows."""
    return rows / county_count(rows) / ROWS_PER_UNIT_SCALE


def write_counties(inbox: Path, names: list[str], seeds: list[int], scale: float,
                   workers: int | None = None) -> list[dict]:
    """Write the named counties, in parallel worker processes; return each one's counts."""
    workers = max(1, min(workers or os.cpu_count() or 1, len(names)))
    if workers == 1:
        return [write_county(inbox, name, seed, scale) for name, seed in zip(names, seeds, strict=True)]
    # spawn, not fork: polars' thread pool does not survive a fork.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(write_county, [inbox] * len(names), names, seeds, [scale] * len(names)))


def totals(per_county: list[dict]) -> dict:
    """Return an inbox's counts of rows, counties, CSV and .xlsx files from its counties' counts."""
    made = {key: sum(c[key] for c in per_county) for key in ("rows", "csv_files", "xlsx_files", "xlsx_rows")}
    return {"rows": made["rows"], "counties": len(per_county), "csv_files": made["csv_files"],
            "xlsx_files": made["xlsx_files"], "xlsx_rows": made["xlsx_rows"]}


def build_inbox(inbox: Path, rows: int, seed: int = 7, donor: Path | None = None,
                workers: int | None = None) -> list[dict]:
    """Write an inbox of about `rows` rows; return each county's counts.

    County k is drawn with seed + k at the same scale whatever the size (100k rows per county),
    so the counties an intact donor inbox (another size's base) already holds are copied, not drawn.
    """
    counties = county_count(rows)
    names = [f"county{k:03d}" for k in range(counties)]
    copied = donor_counties(donor, rows, seed) if donor is not None else []
    for name in names[:len(copied)]:
        # A copy, not hard links: the incremental run rewrites a file in place.
        shutil.copytree(donor / "inbox" / name, inbox / name)
    drawn = write_counties(inbox, names[len(copied):], [seed + k for k in range(len(copied), counties)],
                           county_scale(rows), workers)
    return copied + drawn


def donor_counties(donor: Path, rows: int, seed: int) -> list[dict]:
    """Return the counts of the leading counties an intact inbox at donor shares with a new one."""
    manifest = read_manifest(donor)
    if (manifest is None or reusable(donor, manifest.get("size", 0), seed) is None
            or manifest.get("county_scale") != county_scale(rows)):
        return []
    return manifest["per_county"][:county_count(rows)]


def changed_file(inbox: Path) -> Path:
    """Return the file the incremental run changes."""
    return inbox / "county000" / "inspections" / f"{YEAR}-06.csv"


@contextmanager
def one_file_changed(inbox: Path) -> Iterator[Path]:
    """Rewrite one month's CSV with one figure changed while inside; put the original back after."""
    with one_cell_changed(changed_file(inbox)) as path:
        yield path


@contextmanager
def one_cell_changed(path: Path) -> Iterator[Path]:
    """Rewrite an inspections CSV with one figure changed (检查人数 of its first row, an int) while
    inside; put the original back after."""
    original = path.read_bytes()
    frame = pl.read_csv(io.BytesIO(original), infer_schema=False)
    col = frame.columns[6]  # 检查人数 (an int)
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("9")).otherwise(pl.col(col)).alias(col))
    frame.write_csv(path)
    try:
        yield path
    finally:
        path.write_bytes(original)


def generator_version(root: Path = ROOT) -> str:
    """Return a hash of the sources that decide what an inbox holds."""
    digest = hashlib.sha256()
    for source in GENERATOR_SOURCES:
        top = root / source
        for path in sorted(top.rglob("*.py")) if top.is_dir() else [top]:
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def manifest_for(inbox: Path, rows: int, seed: int, per_county: list[dict]) -> dict:
    """Return the manifest of a freshly built inbox."""
    return {"generator": generator_version(), "size": rows, "seed": seed, "county_scale": county_scale(rows),
            "inbox": totals(per_county), "per_county": per_county,
            "changed_file_sha256": hashlib.sha256(changed_file(inbox).read_bytes()).hexdigest()}


def read_manifest(base: Path) -> dict | None:
    """Return the manifest stored in base, if there is a readable one."""
    try:
        manifest = json.loads((base / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def reusable(base: Path, rows: int, seed: int) -> dict | None:
    """Return the stored inbox's counts if base holds an intact inbox of this generator and size."""
    manifest = read_manifest(base)
    inbox = base / "inbox"
    try:
        made = manifest["inbox"]
        intact = (manifest["generator"] == generator_version() and manifest["size"] == rows
                  and manifest["seed"] == seed
                  and hashlib.sha256(changed_file(inbox).read_bytes()).hexdigest()
                  == manifest["changed_file_sha256"]
                  and sum(1 for p in inbox.rglob("*") if p.is_file())
                  == made["csv_files"] + made["xlsx_files"])
    except (OSError, KeyError, TypeError):
        return None
    return made if intact else None


def ensure_inbox(base: Path, rows: int, seed: int = 7, donor: Path | None = None) -> tuple[dict, bool]:
    """Reuse base/inbox if its manifest matches, else build it afresh; return its counts and whether reused."""
    if (made := reusable(base, rows, seed)) is not None:
        return made, True
    (base / MANIFEST).unlink(missing_ok=True)  # a half-built inbox is never reused
    inbox = base / "inbox"
    shutil.rmtree(inbox, ignore_errors=True)
    per_county = build_inbox(inbox, rows, seed, donor)
    manifest = manifest_for(inbox, rows, seed, per_county)
    (base / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return manifest["inbox"], False
