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
FILLER = (*NOTHING_HAPPENED, "/", "-", "—", "0")


@dataclass(frozen=True)
class ParsedSheet:
    """The data rows of one sheet, typed, with the problems of their cells."""

    rows: pl.DataFrame  # ledger columns (typed; null where bad) + _row
    raw: pl.DataFrame  # the same rows as text: ledger columns + _row
    cells: pl.DataFrame  # _row + every non-empty cell of the row as JSON {header: text}
    problems: pl.DataFrame  # PROBLEM_SCHEMA
    rows_read: int
    zero_report: bool
    headers: dict[str, str]  # ledger column name -> header as the file writes it


def grid_columns(frame: pl.DataFrame) -> list[str]:
    return [c for c in frame.columns if c != "_row"]


def trimmed(col: str) -> pl.Expr:
    text = pl.col(col).str.replace_all(r"[\s\u3000]+", " ").str.strip_chars()
    return pl.when(text != "").then(text)


def classify_rows(body: pl.DataFrame, match: HeaderMatch) -> pl.DataFrame:
    """Tag each row below the header: data, blank, total (合计…) or note (填表人…)."""
    cols = grid_columns(body)
    first = pl.coalesce([trimmed(c) for c in cols]) if cols else pl.lit(None, pl.Utf8)
    first = first.str.replace_all("：", ":")
    kind = (
        pl.when(first.is_null()).then(pl.lit("blank"))
        .when(pl.any_horizontal([first.str.starts_with(p) for p in TOTAL_PREFIXES])).then(pl.lit("total"))
        .when(pl.any_horizontal([first.str.starts_with(p.replace("：", ":")) for p in NOTE_PREFIXES]))
        .then(pl.lit("note"))
        .otherwise(pl.lit("data"))
    )  # fmt: skip
    return body.with_columns(kind.alias("_kind"))


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


def parse_sheet(grid: pl.DataFrame, match: HeaderMatch, ledger: Ledger, *, year: int,
                header_rows: list[list[str | None]]) -> ParsedSheet:
    """Parse every data row of a sheet whose header has been found."""
    body = classify_rows(grid.slice(match.first_data_index), match)
    data = body.filter(pl.col("_kind") == "data")
    zero = data.height == 0 or (data.height == 1 and is_nothing_row(data, match))
    if zero:
        data = data.clear()

    raw_exprs, typed_exprs, checks = [], [], []
    for column in ledger.columns:
        source = match.columns.get(column.name)
        raw = pl.col(source) if source else pl.lit(None, pl.Utf8)
        cell = parse_cell(raw, column, year=year, scale=match.scales.get(column.name, 1.0))
        # What a clerk or analyst sees of the raw text is masked like the warehouse.
        shown = masked_text(raw, column) if column.personal else raw
        raw_exprs.append(shown.alias(column.name))
        typed_exprs.append(cell.value.alias(column.name))
        if source or column.required:
            checks.append(
                pl.struct(
                    pl.col("_row"),
                    pl.lit(column.name).alias("column"),
                    pl.lit(match.headers.get(column.name, column.header)).alias("header"),
                    shown.alias("raw_value"),
                    cell.rule.alias("rule"),
                    cell.reason.alias("reason"),
                ).alias(f"__check_{column.name}")
            )
    rows = data.select(pl.col("_row"), *typed_exprs).with_columns(
        canonical_case_no(pl.col(c.name)) for c in ledger.columns if c.name == "case_no"
    )
    raw_rows = data.select(pl.col("_row"), *raw_exprs)

    problems = cell_problems(data, checks)
    problems = pl.concat([problems, total_problems(body, match, ledger, year)], how="vertical")

    labels = header_labels(grid, match, header_rows)
    personal = {match.columns[c.name]: c for c in ledger.columns if c.personal and c.name in match.columns}
    cells = data.select(
        pl.col("_row"),
        pl.struct([
            (masked_text(pl.col(c), personal[c]) if c in personal else pl.col(c)).alias(label)
            for c, label in labels.items()
        ])
        .struct.json_encode()
        .alias("cells"),
    )
    return ParsedSheet(rows, raw_rows, cells, problems, data.height, zero, dict(match.headers))


def cell_problems(data: pl.DataFrame, checks: list[pl.Expr]) -> pl.DataFrame:
    """One problem per bad cell: its row, column, header, raw text, rule and reason."""
    if data.height == 0 or not checks:
        return pl.DataFrame(schema=PROBLEM_SCHEMA)
    long = (
        data.select(pl.concat_list(checks).alias("c"))
        .explode("c")
        .unnest("c")
        .filter(pl.col("rule").is_not_null())
    )
    return problem_frame(long, severity="error")


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


def canonical_case_no(expr: pl.Expr) -> pl.Expr:
    """Case numbers compare equal whatever brackets they use: 〔〕 [] 【】 () （）."""
    return (
        expr.str.replace_all(r"\s+", "")
        .str.replace_all(r"[\[【(（]", "〔")
        .str.replace_all(r"[\]】)）]", "〕")
    )
