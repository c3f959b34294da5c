"""Build big benchmark inboxes fast: CSVs with polars, a minority of .xlsx in constant-memory mode.

Layout: <inbox>/<county>/<ledger>/<YYYY-MM>.csv|.xlsx (staff, a snapshot: <YYYY-MM>-28).
Generation time is not part of the measurement.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import xlsxwriter

from flows.ledgers import LEDGERS, Ledger
from flows.sample.truth import truth_frames

YEAR = 2024
ROWS_PER_UNIT_SCALE = 1607  # rows of all ledgers of one county-year at scale 1.0
ROWS_PER_COUNTY = 100_000
XLSX_MONTHS = (1, 2)  # of every county and ledger: a sixth of the files are .xlsx
DATE_KEYS = {"cases": "filed_on", "hotline": "received_on"}  # registers: the month of a row


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


def write_xlsx(path: Path, sheet: pl.DataFrame) -> None:
    """Write a text sheet as .xlsx with xlsxwriter's constant-memory writer."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                           "strings_to_formulas": False, "strings_to_urls": False})
    ws = book.add_worksheet("Sheet1")
    ws.write_row(0, 0, sheet.columns)
    for r, row in enumerate(sheet.iter_rows(), start=1):
        for c, value in enumerate(row):
            if value is not None and value != "":
                ws.write_string(r, c, value)
    book.close()


def file_name(code: str, month: int, ext: str) -> str:
    stem = f"{YEAR}-{month:02d}-28" if LEDGERS[code].kind == "snapshot" else f"{YEAR}-{month:02d}"
    return f"{stem}.{ext}"


def build_inbox(inbox: Path, rows: int, seed: int = 7) -> dict:
    """Write an inbox of about `rows` rows; return its counts of rows, CSV and .xlsx files."""
    counties = county_count(rows)
    scale = rows / counties / ROWS_PER_UNIT_SCALE
    total = csv_files = xlsx_files = xlsx_rows = 0
    for k in range(counties):
        county = f"county{k:03d}"
        for code, frame in truth_frames(YEAR, seed + k, scale).items():
            ledger = LEDGERS[code]
            folder = inbox / county / code
            folder.mkdir(parents=True, exist_ok=True)
            months = month_of(frame, code)
            sheet = as_sheet(frame, ledger)
            wanted = [12] if ledger.kind == "snapshot" else range(1, 13)
            for month in wanted:
                part = sheet.filter(months == month)
                total += part.height
                if month in XLSX_MONTHS and ledger.kind != "snapshot":
                    write_xlsx(folder / file_name(code, month, "xlsx"), part)
                    xlsx_files += 1
                    xlsx_rows += part.height
                else:
                    part.write_csv(folder / file_name(code, month, "csv"))
                    csv_files += 1
    return {"rows": total, "counties": counties, "csv_files": csv_files,
            "xlsx_files": xlsx_files, "xlsx_rows": xlsx_rows}


def change_one_file(inbox: Path) -> Path:
    """Rewrite one month's CSV of one ledger and county with one figure changed; return it."""
    path = inbox / "county000" / "inspections" / f"{YEAR}-06.csv"
    frame = pl.read_csv(path, infer_schema=False)
    col = frame.columns[6]  # 检查人数 (an int)
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("9")).otherwise(pl.col(col)).alias(col))
    frame.write_csv(path)
    return path


def touch_date() -> dt.date:
    return dt.date(YEAR, 6, 1)
