"""Turn the grid of one sheet into typed ledger rows and the problems found in their cells."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import polars as pl

from .cells import fast_cell, parse_cell
from .headers import HeaderMatch
from .ledgers import Column, Ledger
from .masking import mask_by_kind, mask_texts, personal_kind_of_header
from .problems import PROBLEM_SCHEMA, problem_frame
from .protect import masked_text

TOTAL_PREFIXES = ("合计", "总计", "小计")
NOTE_PREFIXES = ("填表人", "审核人", "填报日期", "制表", "备注:", "备注：", "说明")
NOTHING_HAPPENED = ("无", "本月无", "无此项")
EMPTY_PROBLEMS = pl.DataFrame(schema=PROBLEM_SCHEMA)
FILLER = (*NOTHING_HAPPENED, "/", "-", "—", "0")
STRIPPED = " \t\r\n\u3000"  # what a row's joined text is stripped of before its prefix is read
# A cell that starts (after STRIPPED) with a character no total or note prefix starts with.
SURELY_DATA = "^[{0}]*[^{0}{1}]".format(
    STRIPPED, "".join(sorted({p[0] for p in (*TOTAL_PREFIXES, *NOTE_PREFIXES)}))
)


@dataclass(frozen=True)
class ParsedSheet:
    """The data rows of one sheet, typed, with the problems of their cells."""

    rows: pl.DataFrame  # ledger columns (typed; null where bad) + _row
    raw: pl.DataFrame  # the same rows as text (personal data masked): ledger columns + _row
    grid: pl.DataFrame  # the same rows as the sheet holds them: c0 … cN + _row
    cell_exprs: list[pl.Expr]  # every cell of a grid row under its header, masked
    problems: pl.DataFrame  # PROBLEM_SCHEMA
    rows_read: int
    zero_report: bool
    headers: dict[str, str]  # ledger column name -> header as the file writes it


def grid_columns(frame: pl.DataFrame) -> list[str]:
    return [c for c in frame.columns if c != "_row"]


def classify_rows(body: pl.DataFrame, match: HeaderMatch) -> pl.DataFrame:
    """Tag each row below the header: data, blank, total (合计…) or note (填表人…)."""
    cols = grid_columns(body)
    # The row's cells joined start with its first non-empty cell: one string per row to test.
    line = (
        pl.concat_str([pl.col(c) for c in cols], ignore_nulls=True).str.strip_chars(STRIPPED)
        if cols else pl.lit("")
    )  # fmt: skip
    body = body.with_columns(line.str.replace("：", ":", literal=True).alias("_first"))
    first = pl.col("_first")
    kind = (
        pl.when(first.is_null() | (first == "")).then(pl.lit("blank"))
        .when(pl.any_horizontal([first.str.starts_with(p) for p in TOTAL_PREFIXES])).then(pl.lit("total"))
        .when(pl.any_horizontal([first.str.starts_with(p.replace("：", ":")) for p in NOTE_PREFIXES]))
        .then(pl.lit("note"))
        .otherwise(pl.lit("data"))
    )  # fmt: skip
    return body.with_columns(kind.alias("_kind")).drop("_first")


def is_nothing_row(row: pl.DataFrame, match: HeaderMatch) -> bool:
    """Whether the only data row of a sheet says 无 / 本月无 / 无此项."""
    cols = [c for c in grid_columns(row) if c not in ("_kind", match.row_number_column)]
    values = [v.strip() for v in row.select(cols).row(0) if v is not None and v.strip()]
    return bool(values) and set(values) <= set(FILLER) and bool(set(values) & set(NOTHING_HAPPENED))


def header_labels(grid: pl.DataFrame, match: HeaderMatch, header_rows: list[list[str | None]]) -> dict[str, str]:
    """A label for every grid column: its header as written, else its spreadsheet letter."""
    by_grid = {g: match.headers[name] for name, g in match.columns.items()}
    labels = {}
    for i, col in enumerate(grid_columns(grid)):
        text = next((str(r[i]).strip() for r in reversed(header_rows) if i < len(r) and r[i]), None)
        labels[col] = by_grid.get(col) or text or f"第{i + 1}列"
    # A header cell the template does not know is still the clerk's text: mask it like data.
    labels = dict(zip(labels, mask_texts(list(labels.values())), strict=True))
    seen: dict[str, int] = {}
    for col, label in labels.items():  # JSON keys must be unique
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            labels[col] = f"{label}（{seen[label]}）"
    return labels


@dataclass(frozen=True)
class SheetToParse:
    """One sheet whose header has been found, waiting to be parsed."""

    grid: pl.DataFrame
    match: HeaderMatch
    ledger: Ledger
    year: int
    header_rows: list[list[str | None]]


def parse_sheets(sheets: list[SheetToParse]) -> list[ParsedSheet | Exception]:
    """Parse many sheets, one pass per ledger: planning a query costs more than a small sheet."""
    results: list[ParsedSheet | Exception | None] = [None] * len(sheets)
    by_ledger: dict[str, list[int]] = {}
    for i, sheet in enumerate(sheets):
        by_ledger.setdefault(sheet.ledger.code, []).append(i)
    for indexes in by_ledger.values():
        try:
            for i, parsed in zip(indexes, parse_batch([sheets[i] for i in indexes]), strict=True):
                results[i] = parsed
        except Exception:
            for i in indexes:  # isolate the sheet that fails, so that the others still load
                try:
                    results[i] = parse_batch([sheets[i]])[0]
                except Exception as exc:
                    results[i] = exc
    return results  # type: ignore[return-value]


def surely_data(bodies: list[pl.DataFrame]) -> list[pl.Series | None]:
    """Tell, for each body, which rows are surely data by their first cell (None: no cells)."""
    # Most rows start with a cell whose first character no 合计/填表人… prefix starts with:
    # those are data, and only the others need their whole row joined up and tested.
    firsts = [b.get_column(cols[0]).cast(pl.Utf8).alias("c") if (cols := grid_columns(b)) else None
              for b in bodies]
    present = [f for f in firsts if f is not None]
    if not present:
        return [None] * len(bodies)
    # One query for the whole batch, then cut back into sheets.
    flags = pl.DataFrame([pl.concat(present)]).select(
        pl.col("c").str.contains(SURELY_DATA).fill_null(False)
    ).to_series()
    out: list[pl.Series | None] = []
    offset = 0
    for first in firsts:
        if first is None:
            out.append(None)
            continue
        out.append(flags.slice(offset, first.len()))
        offset += first.len()
    return out


def data_rows(sheet: SheetToParse, body: pl.DataFrame, sure: pl.Series | None
              ) -> tuple[pl.DataFrame | None, pl.DataFrame, bool]:
    """Return the rows below the header, classified (None if no 合计 row), the data rows, and if zero."""
    if sure is not None and sure.all():
        kinds, data = None, body
    else:
        if sure is None or not sure.any():
            kinds = classify_rows(body, sheet.match)
        else:
            unsure = sure.not_().arg_true()
            found = classify_rows(body.filter(sure.not_()), sheet.match).get_column("_kind")
            every = pl.repeat("data", body.height, dtype=pl.Utf8, eager=True).alias("_kind")
            kinds = body.with_columns(merged(every, unsure, found))
        data = kinds.filter(pl.col("_kind") == "data").drop("_kind")
        if not (kinds.get_column("_kind") == "total").any():
            kinds = None
    zero = data.height == 0 or (data.height == 1 and is_nothing_row(data, sheet.match))
    return kinds, (data.clear() if zero else data), zero


def mapped_rows(sheets: list[SheetToParse], datas: list[pl.DataFrame]) -> pl.DataFrame:
    """The data rows of a batch under the ledger's column names, as text, with what parsing needs."""
    ledger = sheets[0].ledger
    # Built from Series, not selects: a query plan per sheet costs more than a small sheet.
    frames = [
        pl.DataFrame([
            data.get_column("_row"),
            *[data.get_column(sheet.match.columns[c.name]).cast(pl.Utf8).alias(c.name)
              for c in ledger.columns if c.name in sheet.match.columns],
        ])
        for sheet, data in zip(sheets, datas, strict=True)
    ]  # fmt: skip
    rows = pl.concat(frames, how="diagonal")
    heights = np.array([data.height for data in datas], dtype=np.int64)

    def per_sheet(name: str, values: list, dtype: type) -> pl.Series:
        return pl.Series(name, np.repeat(np.array(values, dtype=dtype), heights))

    # One chunk per column, not one per sheet (or per CSV block): every pass below is faster.
    return pl.DataFrame([
        rows.get_column("_row"),
        per_sheet("_unit", list(range(len(sheets))), np.int32),
        per_sheet("_year", [sheet.year for sheet in sheets], np.int32),
        *[rows.get_column(c.name) if c.name in rows.columns
          else pl.Series(c.name, [None] * rows.height, dtype=pl.Utf8)
          for c in ledger.columns],
        *[per_sheet(f"_scale_{c.name}", [sheet.match.scales.get(c.name, 1.0) for sheet in sheets], np.float64)
          for c in ledger.columns if c.type == "money"],
    ]).rechunk()  # fmt: skip


def parse_batch(sheets: list[SheetToParse]) -> list[ParsedSheet]:
    """Parse the sheets of one ledger in a single lazy pass and split the result by sheet."""
    ledger = sheets[0].ledger
    bodies = [sheet.grid.slice(sheet.match.first_data_index) for sheet in sheets]
    prepared = [data_rows(sheet, body, sure)
                for sheet, body, sure in zip(sheets, bodies, surely_data(bodies), strict=True)]
    mapped = mapped_rows(sheets, [data for _, data, _ in prepared])
    names = [c.name for c in ledger.columns]
    # First the clean forms, cheaply; then the full parse of only the cells they leave.
    parsed_all = mapped.lazy().select(*fast_exprs(ledger)).collect()
    found = []
    for column in ledger.columns:
        settled = parsed_all.get_column(f"__settled_{column.name}")
        if settled.all():  # the common case, and far cheaper than looking for positions
            continue
        unsettled = settled.not_().arg_true()
        value, bad = full_parse(mapped, unsettled, column)
        parsed_all = parsed_all.with_columns(merged(parsed_all.get_column(column.name), unsettled, value))
        found.append(bad)
    rows_all = parsed_all.select(
        "_row", *[canonical_case_no(pl.col(c)) if c == "case_no" else pl.col(c) for c in names]
    )
    raw_all = parsed_all.select("_row", *[pl.col(f"__raw_{c}").alias(c) for c in names])
    # Each sheet's rows are consecutive, in sheet order: a zero-copy slice is its part.
    starts = np.cumsum([0] + [data.height for _, data, _ in prepared]).tolist()
    headers = pl.DataFrame(
        [(i, c.name, s.match.headers.get(c.name, c.header)) for i, s in enumerate(sheets) for c in ledger.columns],
        schema={"_unit": pl.Int32, "column": pl.Utf8, "header": pl.Utf8}, orient="row",
    )
    problem_parts = split_by_unit(cell_problems(found, headers)) if found else {}
    out = []
    for i, sheet in enumerate(sheets):
        body, data, zero = prepared[i]
        problems = problem_parts.get(i, EMPTY_PROBLEMS)
        if body is not None:  # only a sheet with a 合计 row can have its total wrong
            problems = pl.concat([problems, total_problems(body, sheet.match, ledger, sheet.year)],
                                 how="vertical")
        labels = header_labels(sheet.grid, sheet.match, sheet.header_rows)
        personal = {sheet.match.columns[c.name]: c for c in ledger.columns
                    if c.personal and c.name in sheet.match.columns}
        mapped = set(sheet.match.columns.values())
        cells = [masked_cell(c, personal.get(c), None if c in mapped else label).alias(label)
                 for c, label in labels.items()]
        start, height = starts[i], starts[i + 1] - starts[i]
        out.append(ParsedSheet(rows_all.slice(start, height), raw_all.slice(start, height), data, cells,
                               problems, data.height, zero, dict(sheet.match.headers)))
    return out


@lru_cache(maxsize=64)
def fast_exprs(ledger: Ledger) -> tuple[pl.Expr, ...]:
    """The fast parse of every column of a ledger, with its shown text and which cells it settles."""
    exprs = [pl.col("_row"), pl.col("_unit")]
    for column in ledger.columns:
        fast = fast_cell(pl.col(column.name), column, scale=scale_of(column))
        exprs += [fast.value.alias(column.name), shown_text(column).alias(f"__raw_{column.name}"),
                  fast.settled.alias(f"__settled_{column.name}")]
    return tuple(exprs)


@lru_cache(maxsize=256)
def masked_cell(grid_column: str, column: Column | None, extra_header: str | None = None) -> pl.Expr:
    """A cell of the grid, masked for quarantine: by its template column, else by its header and content."""
    if column is not None and column.personal:
        return masked_text(pl.col(grid_column), column)
    # A column the template does not have may still hold IDs, phones or names (来电号码,
    # 身份证号（备查）, 来电人): its header tells names; IDs and phones are found anywhere.
    return mask_by_kind(pl.col(grid_column), personal_kind_of_header(extra_header))


def scale_of(column: Column) -> pl.Expr | float:
    """The header's unit factor of a money column, per row of a batch."""
    return pl.col(f"_scale_{column.name}") if column.type == "money" else 1.0


def shown_text(column: Column) -> pl.Expr:
    """What a clerk or analyst sees of a cell's raw text: masked like the warehouse."""
    raw = pl.col(column.name)
    return masked_text(raw, column) if column.personal else raw


def full_parse(mapped: pl.DataFrame, rows: pl.Series, column: Column) -> tuple[pl.Series, pl.DataFrame]:
    """Parse one column's cells at the given positions fully: their values, and their problems."""
    name = column.name
    needed = ["_row", "_unit", "_year", name] + ([f"_scale_{name}"] if column.type == "money" else [])
    cell = parse_cell(pl.col(name), column, year=pl.col("_year"), scale=scale_of(column))
    # One lazy select so that the value, rule and reason of a cell share their work.
    parsed = (
        mapped.lazy().select(pl.col(needed).gather(rows))
        .select(pl.col("_unit"), pl.col("_row"), cell.value.alias("value"),
                shown_text(column).alias("raw_value"), cell.rule.alias("rule"), cell.reason.alias("reason"))
        .collect()
    )  # fmt: skip
    bad = parsed.filter(pl.col("rule").is_not_null()).select(
        "_unit", "_row", pl.lit(name).alias("column"), "raw_value", "rule", "reason"
    )
    return parsed.get_column("value"), bad


def merged(fast: pl.Series, rows: pl.Series, values: pl.Series) -> pl.Series:
    """The fast values with those at `rows` replaced (scatter, for every dtype lists included)."""
    n = fast.len()
    take = pl.int_range(0, n, dtype=pl.UInt32, eager=True)
    take.scatter(rows, pl.int_range(n, n + rows.len(), dtype=pl.UInt32, eager=True))
    return pl.concat([fast, values.cast(fast.dtype)]).gather(take).alias(fast.name)


def split_by_unit(frame: pl.DataFrame) -> dict[int, pl.DataFrame]:
    """Split a batch frame by its `_unit` column, dropping it."""
    if "_unit" not in frame.columns or frame.height == 0:
        return {}
    parts = frame.partition_by("_unit", as_dict=True, include_key=False, maintain_order=True)
    return {key[0]: part for key, part in parts.items()}


def cell_problems(found: list[pl.DataFrame], headers: pl.DataFrame) -> pl.DataFrame:
    """One problem per bad cell (found per column by full_parse), with its header as written."""
    schema = {"_unit": pl.Int32, "_row": pl.Int32, "column": pl.Utf8, "raw_value": pl.Utf8,
              "rule": pl.Utf8, "reason": pl.Utf8}
    long = pl.concat([pl.DataFrame(schema=schema), *(f.cast(schema) for f in found)], how="vertical")
    long = long.join(headers, on=["_unit", "column"], how="left", maintain_order="left")
    return problem_frame(long, severity="error").with_columns(long["_unit"])


def total_problems(body: pl.DataFrame, match: HeaderMatch, ledger: Ledger, year: int) -> pl.DataFrame:
    """Warn where a 合计 row's number differs from the sum of the data rows above it."""
    totals = body.filter(pl.col("_kind") == "total")
    if totals.height == 0:
        return pl.DataFrame(schema=PROBLEM_SCHEMA)
    data = body.filter(pl.col("_kind") == "data")
    found = []
    for column in ledger.columns:
        source = match.columns.get(column.name)
        if source is None or column.type not in ("int", "money", "number"):
            continue
        scale = match.scales.get(column.name, 1.0)
        value = parse_cell(pl.col(source), column, year=year, scale=scale).value
        parsed = data.select(pl.col("_row"), value.alias("v"))
        at_total = totals.select(pl.col("_row"), pl.col(source).alias("raw"), value.alias("v"))
        for row, raw, total in at_total.iter_rows():  # one per 合计 row, never per data row
            if total is None or raw is None:
                continue
            above = parsed.filter(pl.col("_row") < row)["v"].sum() or 0
            if round(float(total) - float(above), 2) != 0:
                found.append({
                    "_row": row, "column": column.name, "header": match.headers[column.name],
                    "raw_value": raw, "rule": "total_mismatch",
                    "reason": f"合计行为 {fmt(total)}，上方数据行之和为 {fmt(above)}",
                })  # fmt: skip
    if not found:
        return pl.DataFrame(schema=PROBLEM_SCHEMA)
    return problem_frame(pl.DataFrame(found, schema_overrides={"_row": pl.Int32}), severity="warning")


def fmt(number: float) -> str:
    return f"{number:,.2f}".rstrip("0").rstrip(".")


def quarantine_cells(parsed: ParsedSheet, rows: pl.Series) -> pl.DataFrame:
    """The chosen rows as the clerk wrote them: _row and a JSON object {header: text}."""
    chosen = parsed.grid.filter(pl.col("_row").is_in(rows.implode()))
    return chosen.select(pl.col("_row"), pl.struct(parsed.cell_exprs).struct.json_encode().alias("cells"))


def canonical_case_no(expr: pl.Expr) -> pl.Expr:
    """Case numbers compare equal whatever brackets they use: 〔〕 [] 【】 () （）."""
    return (
        expr.str.replace_all(r"\s+", "")
        .str.replace_all(r"[\[【(（]", "〔")
        .str.replace_all(r"[\]】)）]", "〕")
    )
