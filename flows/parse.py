"""Turn the grid of one sheet into typed ledger rows and the problems found in their cells."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from .cells import parse_cell
from .headers import HeaderMatch
from .ledgers import Ledger
from .problems import PROBLEM_SCHEMA, problem_frame
from .protect import masked_text

TOTAL_PREFIXES = ("合计", "总计", "小计")
NOTE_PREFIXES = ("填表人", "审核人", "填报日期", "制表", "备注:", "备注：", "说明")
NOTHING_HAPPENED = ("无", "本月无", "无此项")
EMPTY_PROBLEMS = pl.DataFrame(schema=PROBLEM_SCHEMA)
FILLER = (*NOTHING_HAPPENED, "/", "-", "—", "0")


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
        pl.concat_str([pl.col(c) for c in cols], ignore_nulls=True).str.strip_chars(" \t\r\n\u3000")
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


def data_rows(sheet: SheetToParse) -> tuple[pl.DataFrame, pl.DataFrame, bool]:
    """The sheet's rows below the header (classified) and its data rows; and if it is a zero report."""
    body = classify_rows(sheet.grid.slice(sheet.match.first_data_index), sheet.match)
    data = body.filter(pl.col("_kind") == "data")
    zero = data.height == 0 or (data.height == 1 and is_nothing_row(data, sheet.match))
    return body, (data.clear() if zero else data), zero


def mapped_rows(sheet: SheetToParse, data: pl.DataFrame, unit: int) -> pl.DataFrame:
    """Data rows under the ledger's column names, as text, with what parsing needs to know."""
    match, ledger = sheet.match, sheet.ledger
    return data.select(
        pl.col("_row"),
        pl.lit(unit, pl.Int32).alias("_unit"),
        pl.lit(sheet.year, pl.Int32).alias("_year"),
        *[
            (pl.col(match.columns[c.name]) if c.name in match.columns else pl.lit(None))
            .cast(pl.Utf8).alias(c.name)
            for c in ledger.columns
        ],
        *[
            pl.lit(match.scales.get(c.name, 1.0), pl.Float64).alias(f"_scale_{c.name}")
            for c in ledger.columns if c.type == "money"
        ],
    )


def parse_batch(sheets: list[SheetToParse]) -> list[ParsedSheet]:
    """Parse the sheets of one ledger in a single lazy pass and split the result by sheet."""
    ledger = sheets[0].ledger
    prepared = [data_rows(sheet) for sheet in sheets]
    mapped = pl.concat(
        [mapped_rows(s, data, i) for i, (s, (_, data, _)) in enumerate(zip(sheets, prepared, strict=True))],
        how="vertical",
    )
    exprs = [pl.col("_row"), pl.col("_unit")]
    for column in ledger.columns:
        name = column.name
        raw = pl.col(name)
        scale = pl.col(f"_scale_{name}") if column.type == "money" else 1.0
        cell = parse_cell(raw, column, year=pl.col("_year"), scale=scale)
        # What a clerk or analyst sees of the raw text is masked like the warehouse.
        shown = masked_text(raw, column) if column.personal else raw
        exprs += [cell.value.alias(name), shown.alias(f"__raw_{name}"),
                  cell.rule.alias(f"__rule_{name}"), cell.reason.alias(f"__reason_{name}")]
    # One lazy select so that the value, rule and reason of a cell share their work.
    parsed_all = mapped.lazy().select(exprs).collect()
    names = [c.name for c in ledger.columns]
    parts = split_by_unit(parsed_all)
    headers = pl.DataFrame(
        [(i, c.name, s.match.headers.get(c.name, c.header)) for i, s in enumerate(sheets) for c in ledger.columns],
        schema={"_unit": pl.Int32, "column": pl.Utf8, "header": pl.Utf8}, orient="row",
    )
    problem_parts = split_by_unit(cell_problems(parsed_all, names, headers))
    out = []
    for i, sheet in enumerate(sheets):
        body, data, zero = prepared[i]
        parsed = parts.get(i, parsed_all.clear())
        rows = parsed.select(pl.col("_row"), *names).with_columns(
            canonical_case_no(pl.col(c)) for c in names if c == "case_no"
        )
        raw_rows = parsed.select(pl.col("_row"), *[pl.col(f"__raw_{c}").alias(c) for c in names])
        problems = pl.concat(
            [problem_parts.get(i, EMPTY_PROBLEMS), total_problems(body, sheet.match, ledger, sheet.year)],
            how="vertical",
        )
        labels = header_labels(sheet.grid, sheet.match, sheet.header_rows)
        personal = {sheet.match.columns[c.name]: c for c in ledger.columns
                    if c.personal and c.name in sheet.match.columns}
        cells = [
            (masked_text(pl.col(c), personal[c]) if c in personal else pl.col(c)).alias(label)
            for c, label in labels.items()
        ]
        out.append(ParsedSheet(rows, raw_rows, data, cells, problems, data.height, zero,
                               dict(sheet.match.headers)))
    return out


def split_by_unit(frame: pl.DataFrame) -> dict[int, pl.DataFrame]:
    """Split a batch frame by its `_unit` column, dropping it."""
    if "_unit" not in frame.columns or frame.height == 0:
        return {}
    return {key[0]: part.drop("_unit") for key, part in frame.partition_by("_unit", as_dict=True).items()}


def cell_problems(parsed: pl.DataFrame, names: list[str], headers: pl.DataFrame) -> pl.DataFrame:
    """One problem per bad cell: its unit, row, column, header as written, raw text, rule and reason."""
    found = [
        parsed.filter(pl.col(f"__rule_{name}").is_not_null()).select(
            pl.col("_unit"),
            pl.col("_row"),
            pl.lit(name).alias("column"),
            pl.col(f"__raw_{name}").alias("raw_value"),
            pl.col(f"__rule_{name}").alias("rule"),
            pl.col(f"__reason_{name}").alias("reason"),
        )
        for name in names
    ]
    long = pl.concat(found, how="vertical").join(headers, on=["_unit", "column"], how="left")
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
