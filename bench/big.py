"""The shape a city sends: one large file per ledger per month, and a mixed inbox.

`make bench`'s first shape is many small files (one folder per county, 910 CSVs and 180 .xlsx
at 1M rows). A consolidated inbox looks different: the counties' rows of a ledger's month in
one file, `<inbox>/<ledger>/2024-MM.csv`, so 12 files per ledger (the roster: one snapshot),
83k inspection rows each at 1M. Both are made from the small-file inbox of the same size, so
the two shapes hold the same rows and their runs compare:

- **big**: every county merged, all CSV (the .xlsx months read as text first);
- **mixed**: the first half of the counties merged into one folder of big files (`city/`),
  the other half as they are (their .xlsx included, hard-linked), as a city sends while some
  counties still report on their own.

The registers' keys are numbered per county, so merged counties would repeat them: a case
number gets its county's number after 〔2024〕 (`西文旅罚〔2024〕3-398号`, in the case register and
where publications cite it), a ticket number the county's three digits in front. Nothing else
changes. A manifest beside each inbox (naming the source inbox's manifest) lets a later bench
reuse it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from bench.inbox import MANIFEST, read_manifest

YEAR = 2024
CITY = "city"  # the mixed inbox's folder of merged counties
CASE_NO = {"cases": "案件编号", "publications": "关联案件编号"}
TICKET_NO = {"hotline": "工单编号"}
SHAPE_VERSION = "1"  # bump when what a shape holds changes


def read_text(path: Path) -> pl.DataFrame:
    """Read one ledger file of the small-file inbox as text columns (CSV or .xlsx)."""
    if path.suffix == ".xlsx":
        frame = pl.read_excel(path, engine="calamine", infer_schema_length=0)
        return frame.with_columns(pl.all().cast(pl.Utf8))
    return pl.read_csv(path, infer_schema=False)


def renumbered(frame: pl.DataFrame, code: str, county: int) -> pl.DataFrame:
    """Return a county's rows with its register keys made unique across counties."""
    if (col := CASE_NO.get(code)) and col in frame.columns:
        frame = frame.with_columns(pl.col(col).str.replace("〔2024〕", f"〔2024〕{county}-", literal=True))
    if (col := TICKET_NO.get(code)) and col in frame.columns:
        frame = frame.with_columns((pl.lit(f"{county:03d}") + pl.col(col)).alias(col))
    return frame


def merge_counties(source: Path, counties: Iterable[str], to: Path) -> dict:
    """Write one CSV per ledger and month holding the named counties' rows; return the counts.

    source is a small-file inbox (`<county>/<ledger>/<month>.csv|.xlsx`); to receives
    `<ledger>/<month>.csv`, the counties' rows in county order.
    """
    counties = list(counties)
    made = {"rows": 0, "csv_files": 0, "xlsx_files": 0, "xlsx_rows": 0}
    codes = sorted({p.name for county in counties for p in (source / county).iterdir() if p.is_dir()})
    for code in codes:
        stems = sorted({p.stem for county in counties for p in (source / county / code).iterdir()})
        (to / code).mkdir(parents=True, exist_ok=True)
        for stem in stems:
            parts = []
            for county in counties:
                for path in (source / county / code).glob(f"{stem}.*"):
                    parts.append(renumbered(read_text(path), code, int(county.removeprefix("county"))))
            merged = pl.concat(parts, how="diagonal")
            merged.write_csv(to / code / f"{stem}.csv")
            made["rows"] += merged.height
            made["csv_files"] += 1
    return made


def link_counties(source: Path, counties: Iterable[str], to: Path) -> dict:
    """Hard-link the named counties' folders of a small-file inbox into another; return the counts."""
    made = {"rows": 0, "csv_files": 0, "xlsx_files": 0, "xlsx_rows": 0}
    for county in counties:
        for path in sorted((source / county).rglob("*")):
            if not path.is_file():
                continue
            target = to / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, target)
            rows = read_text(path).height
            made["rows"] += rows
            if path.suffix == ".xlsx":
                made["xlsx_files"] += 1
                made["xlsx_rows"] += rows
            else:
                made["csv_files"] += 1
    return made


def changed_file(shape: str, inbox: Path) -> Path:
    """Return the file the one-changed-file run rewrites in an inbox of this shape: a big file."""
    month = f"{YEAR}-06.csv"
    return inbox / "inspections" / month if shape == "big" else inbox / CITY / "inspections" / month


def build_shape(shape: str, source_base: Path, base: Path) -> tuple[dict, bool]:
    """Have the inbox of a shape ('big' or 'mixed') made from a small-file inbox; reuse it if current.

    Returns its counts (as bench.inbox's: rows, counties, csv_files, xlsx_files, xlsx_rows) and
    whether it was reused.
    """
    source_manifest = read_manifest(source_base)
    if source_manifest is None:
        raise RuntimeError(f"no small-file inbox at {source_base} to make the {shape} shape from")
    stamp = hashlib.sha256(json.dumps([SHAPE_VERSION, shape, source_manifest], sort_keys=True).encode()).hexdigest()
    stored = read_manifest(base)
    inbox = base / "inbox"
    if stored is not None and stored.get("source") == stamp and changed_file(shape, inbox).exists():
        return stored["inbox"], True
    (base / MANIFEST).unlink(missing_ok=True)
    shutil.rmtree(inbox, ignore_errors=True)
    source = source_base / "inbox"
    counties = sorted(p.name for p in source.iterdir() if p.is_dir())
    if shape == "big":
        merged, linked, units = merge_counties(source, counties, inbox), None, 1
    else:
        half = max(1, len(counties) // 2)
        merged = merge_counties(source, counties[:half], inbox / CITY)
        linked = link_counties(source, counties[half:], inbox)
        units = 1 + len(counties) - half
    made = {key: merged[key] + (linked[key] if linked else 0) for key in merged}
    made["counties"] = units
    (base / MANIFEST).write_text(json.dumps({"source": stamp, "shape": shape, "inbox": made}, indent=1))
    return made, False
