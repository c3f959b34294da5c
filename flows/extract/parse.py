"""Turn the grid of one sheet into typed ledger rows and the problems found in their cells."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import polars as pl

from flows.contract.ledgers import Column, Ledger
from flows.contract.problems import PROBLEM_SCHEMA, problem_frame
from flows.extract.cells import REQUIRED_RULE, fast_cell, is_blank, parse_cell
from flows.extract.headers import HeaderMatch, header_lookup
from flows.extract.readers import Grid, MergedRange
from flows.privacy.masking import mask_by_kind, mask_texts, personal_kind_of_header
from flows.privacy.protect import masked_text, reads_clear
from flows.textnorm import WHITESPACE_CHARS, normalise_header

# A row whose first non-empty cell (inner white space removed, ：read as :) starts with one
# of these labels is a total, signature or note row, unless the rest of it reads as data.
TOTAL_PREFIXES = ("合计", "总计", "小计", "汇总")  # 汇总: the total row of an Excel/WPS table (套用表格格式)
NOTE_PREFIXES = ("填表人", "填报人", "审核人", "审核", "单位负责人", "负责人", "分管领导", "联系电话", "联系人",
                 "填报日期", "制表", "备注:", "说明", "注:",
                 # and the other signature lines of the forms units use (经办人：, 填报单位（盖章）：…)
                 "经办人", "统计人", "主要负责人", "主管领导", "领导签字", "签字", "签名", "盖章",
                 "填报单位", "报送单位", "报送日期", "填报时间", "日期:")
LABEL_PATTERN = "^(" + "|".join(sorted((*TOTAL_PREFIXES, *NOTE_PREFIXES), key=len, reverse=True)) + ")"
LABEL = re.compile(LABEL_PATTERN)
NO_WHITESPACE = str.maketrans("", "", "".join(WHITESPACE_CHARS))  # what polars' \s matches
FEW_ROWS = 64  # rows to label in Python rather than in a polars query
# Rows of a sheet's body parsed, checked and loaded together (issue 16): a sheet with more is
# parsed in parts of about this many rows, so that a run holds a part's frames, not a whole
# city's month (333k rows at 4M); the flush (`flows.run.context.FLUSH_ROWS`) still gathers
# parts and small files into large batches for the checks and the inserts.
PART_ROWS = 50_000
# The numbered lines that continue a note: 2.本表… （2）… ②…
CONTINUATION = re.compile(r"^(?:\d{1,2}[.．、，,)）]|[（(]\d{1,2}[)）]|[①-⑳])")
NOTHING_HAPPENED = ("无", "本月无", "无此项")
EMPTY_PROBLEMS = pl.DataFrame(schema=PROBLEM_SCHEMA)
FILLER = (*NOTHING_HAPPENED, "/", "-", "—", "0")
STRIPPED = "".join(WHITESPACE_CHARS)  # what a row's first cell is stripped of before its first character is read
# A cell that starts (after STRIPPED) with a character no total or note label starts with.
SURELY_DATA = "^[{0}]*[^{0}{1}]".format(
    STRIPPED, "".join(sorted({p[0] for p in (*TOTAL_PREFIXES, *NOTE_PREFIXES)}))
)
# Rows below the header that are not loaded, and why (`skipped_rows`): kind total | note |
# hidden | filtered | nothing (the 无 of a zero report); label is the row's label only.
SKIPPED_SCHEMA = {"_row": pl.Int32, "kind": pl.Utf8, "label": pl.Utf8}
EMPTY_SKIPPED = pl.DataFrame(schema=SKIPPED_SCHEMA)
NUMERIC_TYPES = ("int", "money", "number")
# What a marked cell (readers.MARK_KINDS) tells the clerk: rule, and reason.
MARK_RULES = {
    "error": ("excel_error", "单元格是 Excel 错误值 {shown}（公式出错），请改正公式或填写数值后重新提交"),
    "no_result": ("formula_no_result",
                  "公式没有计算结果（文件由不计算公式的程序保存），请在 Excel/WPS 中打开、保存后重新提交"),
    "lost_digits": ("lost_digits",
                    "数字超过 15 位，被 Excel 当作数字保存后丢失了末几位，请将该列设为文本后重新录入"),
    "rounded": ("shown_rounded",
                "单元格显示为 {shown}，实际保存的数是 {detail}（单元格格式只显示了部分小数或按千位缩放），"
                "请把数值改为要上报的数，或把单元格格式改为“常规”后重新提交"),
    "merged_header": ("merged_header",
                      "该列表头合并了多列，其下几列都填了值，无法确定哪个是该项的值；"
                      "请取消表头合并、每项只填一列后重新提交"),
}


@dataclass(frozen=True)
class ParsedSheet:
    """The data rows of one sheet, typed, with the problems of their cells."""

    rows: pl.DataFrame  # ledger columns (typed; null where bad) + _row
    raw: pl.DataFrame  # the same rows as text (personal data masked): ledger columns + _row
    grid: pl.DataFrame  # the same rows as the sheet holds them: c0 … cN + _row
    cell_exprs: list[pl.Expr]  # every cell of a grid row under its header, masked
    problems: pl.DataFrame  # PROBLEM_SCHEMA
    rows_read: int  # every non-blank row below the header: data rows + skipped rows
    zero_report: bool
    headers: dict[str, str]  # ledger column name -> header as the file writes it
    skipped: pl.DataFrame = field(default_factory=lambda: EMPTY_SKIPPED)  # SKIPPED_SCHEMA


def grid_columns(frame: pl.DataFrame) -> list[str]:
    return [c for c in frame.columns if c != "_row"]


def label_rows(body: pl.DataFrame) -> pl.DataFrame:
    """Tag each row below the header by its first non-empty cell: blank, data, or total/note by its label.

    The first non-empty cell is read with its inner white space removed (填 表 人： is 填表人:);
    `_at` is the grid position of that cell. A labelled row may still read as data: see
    `read_as_data`.
    """
    cols = [c for c in grid_columns(body) if c.startswith("c")]
    if not cols:
        return body.with_columns(pl.lit("blank").alias("_kind"), pl.lit(None, pl.Utf8).alias("_label"),
                                 pl.lit(None, pl.Int32).alias("_at"))
    compact = [pl.col(c).cast(pl.Utf8).str.replace_all(r"\s", "") for c in cols]
    first = pl.coalesce([pl.when(t != "").then(t) for t in compact]).str.replace("：", ":", literal=True)
    at = pl.coalesce([pl.when(t != "").then(pl.lit(int(c[1:]), pl.Int32)) for c, t in zip(cols, compact, strict=True)])
    label = first.str.extract(LABEL_PATTERN, 1)
    kind = (
        pl.when(first.is_null()).then(pl.lit("blank"))
        .when(label.is_null()).then(pl.lit("data"))
        .when(label.is_in(TOTAL_PREFIXES)).then(pl.lit("total"))
        .otherwise(pl.lit("note"))
    )  # fmt: skip
    found = body.select(kind.alias("_kind"), label.alias("_label"), at.alias("_at"))
    return body.with_columns(found.get_columns())


def read_as_data(sheets: list[SheetToParse], labelled: list[pl.DataFrame | None]) -> list[pl.DataFrame | None]:
    """Make data of the labelled rows that read as data, for a batch of sheets in one query.

    A row whose first cell starts with a label is a total or note only when fewer than half
    of the ledger's required columns (but the label's own) hold a valid value: otherwise it
    is data (备注：已整改 in a 备注 column first). One query for the batch: each query
    compiles the parser's patterns anew, which costs more than the few rows it reads.
    """
    ledger = sheets[0].ledger
    required = [c for c in ledger.required]
    parts = []
    for i, (sheet, frame) in enumerate(zip(sheets, labelled, strict=True)):
        if frame is None:
            continue
        candidates = frame.filter(pl.col("_kind").is_in(["total", "note"]))
        if candidates.height == 0:
            continue
        part = [candidates.get_column("_row"), candidates.get_column("_at"),
                pl.Series("_unit", [i] * candidates.height, dtype=pl.Int32),
                pl.Series("_year", [sheet.year] * candidates.height, dtype=pl.Int32)]
        for column in required:
            source = sheet.match.columns.get(column.name)
            mapped = source is not None and source in candidates.columns
            part.append(candidates.get_column(source).cast(pl.Utf8).alias(column.name) if mapped
                        else pl.Series(column.name, [None] * candidates.height, dtype=pl.Utf8))
            part.append(pl.Series(f"_pos_{column.name}", [int(source[1:]) if mapped else None] * candidates.height,
                                  dtype=pl.Int32))
            part.append(pl.Series(f"_scale_{column.name}", [sheet.match.scales.get(column.name, 1.0)]
                                  * candidates.height, dtype=pl.Float64))
        parts.append(pl.DataFrame(part))
    if not parts:
        return labelled
    counted, valid = [], []
    for column in required:
        own = pl.col(f"_pos_{column.name}").is_not_null() & (pl.col("_at") != pl.col(f"_pos_{column.name}"))
        cell = parse_cell(pl.col(column.name), column, year=pl.col("_year"), scale=pl.col(f"_scale_{column.name}"))
        counted.append(own.fill_null(False).cast(pl.Int32).alias(f"_n_{column.name}"))
        valid.append((own & cell.rule.is_null() & ~is_blank(pl.col(column.name))).fill_null(False).cast(pl.Int32)
                     .alias(f"_ok_{column.name}"))
    # One chunk, not one per sheet: polars compiles the parser's patterns once per chunk.
    flags = pl.concat(parts, how="vertical").rechunk().select("_unit", "_row", *counted, *valid)
    n = pl.sum_horizontal(pl.col(r"^_n_.*$"))
    ok = pl.sum_horizontal(pl.col(r"^_ok_.*$"))
    data = flags.filter(~((n == 0) | (ok * 2 < n))).select("_unit", "_row")
    out = list(labelled)
    for (unit,), rows in data.partition_by("_unit", as_dict=True, include_key=False).items():
        is_data = pl.col("_row").is_in(rows.get_column("_row").implode())
        out[unit] = out[unit].with_columns(
            pl.when(is_data).then(pl.lit("data")).otherwise(pl.col("_kind")).alias("_kind"))
    return out


def classify_rows(body: pl.DataFrame, sheet: SheetToParse) -> pl.DataFrame:
    """Tag each row below the header: data, blank, total (合计…) or note (填表人…), with its label."""
    return read_as_data([sheet], [label_rows(body)])[0]


def with_continuations(kinds: pl.DataFrame) -> pl.DataFrame:
    """Make notes of the rows after a note that hold only a numbered line (2.本表…, （2）…)."""
    is_note = kinds.get_column("_kind") == "note"  # Series, not a query: most sheets have none
    if not is_note.any():
        return kinds
    after = kinds.filter(pl.col("_row") > kinds.get_column("_row").filter(is_note).min())
    cols = [c for c in grid_columns(after) if c.startswith("c")]
    filled = pl.sum_horizontal([(~is_blank(pl.col(c))).cast(pl.Int32) for c in cols]) if cols else pl.lit(0)
    first = pl.coalesce([pl.when(~is_blank(pl.col(c))).then(pl.col(c)) for c in cols]) if cols else pl.lit(None)
    lines = after.select("_row", "_kind", filled.alias("n"), first.cast(pl.Utf8).alias("first")).rows()
    changed: dict[int, str] = {}
    open_note = False
    for row, kind, n, text in lines:
        if kind == "note":
            open_note = True
        elif kind == "data" and open_note and n == 1 and (m := CONTINUATION.match(re.sub(r"\s", "", text))):
            changed[row] = m.group(0)
        elif kind != "blank":
            open_note = False
    if not changed:
        return kinds
    rows = pl.Series(list(changed), dtype=pl.Int32).implode()
    label = pl.col("_row").replace_strict(changed, default=None, return_dtype=pl.Utf8)
    return kinds.with_columns(
        pl.when(pl.col("_row").is_in(rows)).then(pl.lit("note")).otherwise(pl.col("_kind")).alias("_kind"),
        pl.when(pl.col("_row").is_in(rows)).then(label).otherwise(pl.col("_label")).alias("_label"),
    )


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
    # The sheet as read (hidden rows, merged ranges, marked cells); its frame is not used.
    layout: Grid | None = None
    # A part of a sheet parsed in parts (`part_bounds`): the grid positions [start, stop) of its
    # body rows, and the sums of each numeric column over the data rows of the parts above it
    # (what a 合计 row below is checked against). None: the whole body below the header.
    rows: tuple[int, int] | None = None
    above: tuple[tuple[str, float], ...] = ()


def body_of(sheet: SheetToParse) -> pl.DataFrame:
    """The grid rows below the header that this sheet (or part of one) parses."""
    if sheet.rows is None:
        return sheet.grid.slice(sheet.match.first_data_index)
    start, stop = sheet.rows
    return sheet.grid.slice(start, stop - start)


@dataclass(frozen=True)
class Layout:
    """What a sheet's hidden rows and merged ranges make of the rows below its header."""

    body: pl.DataFrame  # merged values spread down their ranges, hidden rows taken out
    hidden: pl.DataFrame  # SKIPPED_SCHEMA: the non-blank hidden rows
    # (row, grid column, range, top-left text): a count or amount merged over several rows
    spans: list[tuple[int, str, str, str | None]] = field(default_factory=list)
    merges: tuple[MergedRange, ...] = ()  # the ranges inside the body, to name them in problems
    hidden_data: int = 0  # hidden rows that are not totals or notes: data the clerk chose to hide


def lay_out(sheet: SheetToParse, body: pl.DataFrame) -> Layout:
    """Apply the sheet's merged ranges and hidden rows to the rows below its header."""
    grid = sheet.layout
    if grid is None or body.height == 0 or not (grid.hidden_rows or grid.merges):
        return Layout(body, EMPTY_SKIPPED)
    top = body["_row"][0]
    rows = body["_row"].to_list()
    index = {r: i for i, r in enumerate(rows)}
    numeric = {sheet.match.columns[c.name] for c in sheet.ledger.columns
               if c.type in NUMERIC_TYPES and c.name in sheet.match.columns}
    spans: list[tuple[int, str, str, str | None]] = []
    inside: list[MergedRange] = []
    filled: dict[str, list] = {}
    for m in grid.merges:
        if m.first_row < top or m.first_row not in index:
            continue  # a title or header range is no data cell
        inside.append(m)
        col = f"c{m.first_col}"
        if m.last_row == m.first_row or col not in body.columns:
            continue
        spanned = [r for r in range(m.first_row, m.last_row + 1) if r in index]
        value = body[col][index[m.first_row]]
        if col in numeric:  # a count cannot be split between rows: every row goes back
            spans += [(r, col, m.ref, value) for r in spanned]
        else:  # a date, type, name or text applies to every row it spans
            values = filled.setdefault(col, body[col].to_list())
            for r in spanned[1:]:
                values[index[r]] = value
    if filled:
        body = body.with_columns([pl.Series(col, values, dtype=pl.Utf8) for col, values in filled.items()])
    hidden, hidden_data = EMPTY_SKIPPED, 0
    if grid.hidden_rows:
        is_hidden = pl.col("_row").is_in(pl.Series(sorted(grid.hidden_rows), dtype=pl.Int32).implode())
        cols = [c for c in grid_columns(body) if c.startswith("c")]
        present = pl.any_horizontal([~is_blank(pl.col(c)) for c in cols]) if cols else pl.lit(False)
        filtered = pl.Series(sorted(grid.filtered_rows), dtype=pl.Int32).implode()
        rows_hidden = body.filter(is_hidden & present)
        hidden_data = int((label_rows_here(rows_hidden)["_kind"] == "data").sum()) if rows_hidden.height else 0
        hidden = rows_hidden.select(
            pl.col("_row").cast(pl.Int32),
            pl.when(pl.col("_row").is_in(filtered)).then(pl.lit("filtered")).otherwise(pl.lit("hidden"))
            .alias("kind"),
            pl.lit(None, pl.Utf8).alias("label"),
        )  # fmt: skip
        body = body.filter(~is_hidden)
    return Layout(body, hidden, spans, tuple(inside), hidden_data)


def part_bounds(sheet: SheetToParse, rows: int | None = None) -> list[tuple[int, int]]:
    """Cut a sheet's body into parts of about `rows` rows: the grid positions [start, stop) of each.

    Each part is parsed, checked and loaded as a sheet of its own, so a cut is made only where
    nothing read across rows can tell: before a row r where rows r-2 … r+1 are plain data rows
    (column A filled, starting with no total or note label and no numbered note line), none
    hidden, and no merged range spans the cut. Then no note runs on over a cut (a plain data
    row ends one), every part holds at least two data rows (so neither a part nor the sheet is
    a zero report or a lone 无 row), and a 合计 row is checked against the parts above it
    (`SheetToParse.above`). One part when the body is short or offers no such row; the last
    part may run to 1.5 × `rows`.
    """
    rows = rows or PART_ROWS
    first, height = sheet.match.first_data_index, sheet.grid.height
    whole = [(first, height)]
    if height - first <= rows * 3 // 2:
        return whole
    body = sheet.grid.slice(first)
    cols = grid_columns(body)
    if not cols:
        return whole
    a = body.get_column(cols[0]).cast(pl.Utf8)
    plain = (a.str.contains(SURELY_DATA)
             & ~a.str.replace_all(r"[\s\x1c-\x1f]", "").str.contains(CONTINUATION.pattern)).fill_null(False)
    layout = sheet.layout
    if layout is not None and layout.hidden_rows:
        plain = plain & ~body.get_column("_row").is_in(pl.Series(sorted(layout.hidden_rows), dtype=pl.Int32).implode())
    ok = plain.to_numpy().copy()
    if layout is not None and layout.merges:  # no cut before a row that a merged range runs into
        numbers = body.get_column("_row").to_numpy()
        for m in layout.merges:
            if m.last_row > m.first_row:
                ok &= ~((numbers > m.first_row) & (numbers <= m.last_row))
    n = ok.size
    candidates = np.flatnonzero(ok[:-3] & ok[1:-2] & ok[2:-1] & ok[3:]) + 2  # cut before body row i
    bounds, start = [], 0
    while True:
        at = int(np.searchsorted(candidates, start + rows))
        if at == candidates.size or n - int(candidates[at]) <= rows // 2:
            break
        cut = int(candidates[at])
        bounds.append((first + start, first + cut))
        start = cut
    bounds.append((first + start, height))
    return bounds


def part_sums(parsed: ParsedSheet, sheet: SheetToParse) -> tuple[tuple[str, float], ...]:
    """The sums a 合计 row in a later part is checked with: this part's data rows' numbers added to `above`."""
    above = dict(sheet.above)
    numeric = [c.name for c in sheet.ledger.columns if c.type in NUMERIC_TYPES and c.name in sheet.match.columns]
    if numeric and parsed.rows.height:
        for name, total in zip(numeric, parsed.rows.select(pl.col(numeric).sum()).row(0), strict=True):
            above[name] = above.get(name, 0) + (total or 0)
    return tuple(above.items())


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


def label_rows_here(body: pl.DataFrame) -> pl.DataFrame:
    """`label_rows` for a few rows, in Python: a polars query costs more than a handful of rows."""
    cols = [c for c in grid_columns(body) if c.startswith("c")]
    kinds, labels, ats = [], [], []
    for cells in body.select(cols).iter_rows():
        kind, label, at = "blank", None, None
        for col, cell in zip(cols, cells, strict=True):
            text = (cell or "").translate(NO_WHITESPACE)
            if text:
                found = LABEL.match(text.replace("：", ":", 1))
                label, at = (found.group(1) if found else None), int(col[1:])
                kind = "data" if found is None else ("total" if label in TOTAL_PREFIXES else "note")
                break
        kinds.append(kind)
        labels.append(label)
        ats.append(at)
    return body.with_columns(pl.Series("_kind", kinds, dtype=pl.Utf8), pl.Series("_label", labels, dtype=pl.Utf8),
                             pl.Series("_at", ats, dtype=pl.Int32))


def labelled_rows(body: pl.DataFrame, sure: pl.Series | None) -> pl.DataFrame | None:
    """Label the rows below the header (None when every row is surely data by its first cell)."""
    if sure is not None and sure.all():
        return None
    if sure is None or not sure.any():
        return label_rows(body) if body.height > FEW_ROWS else label_rows_here(body)
    unsure = sure.not_().arg_true()
    few = unsure.len() <= FEW_ROWS
    found = (label_rows_here if few else label_rows)(body.filter(sure.not_()))
    every = pl.repeat("data", body.height, dtype=pl.Utf8, eager=True).alias("_kind")
    labels = pl.repeat(None, body.height, dtype=pl.Utf8, eager=True).alias("_label")
    at = pl.repeat(None, body.height, dtype=pl.Int32, eager=True).alias("_at")
    return body.with_columns(merged(every, unsure, found.get_column("_kind")),
                             merged(labels, unsure, found.get_column("_label")),
                             merged(at, unsure, found.get_column("_at")))


def data_rows(sheet: SheetToParse, body: pl.DataFrame, kinds: pl.DataFrame | None, hidden: int = 0
              ) -> tuple[pl.DataFrame | None, pl.DataFrame, bool, pl.DataFrame]:
    """Return the rows below the header, classified (None if no 合计 row), the data rows, if zero,
    and the rows skipped as totals, notes or a zero report's 无 (SKIPPED_SCHEMA).

    `kinds` is the body classified (`labelled_rows`, then `read_as_data`), None if all data.
    A sheet is a zero report when it has no data rows (or only a 无 row) and no hidden data
    rows (`hidden`, those not labelled as totals or notes): a hidden row is data the clerk
    chose to hide, not a month with nothing to report.
    """
    skipped = EMPTY_SKIPPED
    if kinds is None:
        data = body
    else:
        kinds = with_continuations(kinds)
        data = kinds.filter(pl.col("_kind") == "data").drop("_kind", "_label", "_at")
        skipped = kinds.filter(pl.col("_kind").is_in(["total", "note"])).select(
            pl.col("_row").cast(pl.Int32), pl.col("_kind").alias("kind"), pl.col("_label").alias("label"))
        kinds = kinds.drop("_at") if (kinds.get_column("_kind") == "total").any() else None
    nothing = data.height == 1 and is_nothing_row(data, sheet.match)
    if nothing:  # the 无 row of a zero report is read, and skipped
        label = next(v.strip() for v in data.drop("_row").row(0) if v is not None and v.strip() in NOTHING_HAPPENED)
        skipped = pl.concat([skipped, pl.DataFrame({"_row": data["_row"].cast(pl.Int32), "kind": ["nothing"],
                                                    "label": [label]})], how="vertical")
    zero = (data.height == 0 or nothing) and hidden == 0
    return kinds, (data.clear() if nothing else data), zero, skipped


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
    layouts = [lay_out(sheet, body_of(sheet)) for sheet in sheets]
    bodies = [layout.body for layout in layouts]
    kinds = read_as_data(sheets, [labelled_rows(body, sure) for body, sure in
                                  zip(bodies, surely_data(bodies), strict=True)])
    prepared = [data_rows(sheet, body, kind, layout.hidden_data)
                for sheet, body, kind, layout in zip(sheets, bodies, kinds, layouts, strict=True)]
    mapped = mapped_rows(sheets, [data for _, data, _, _ in prepared])
    names = [c.name for c in ledger.columns]
    # First the clean forms, cheaply; then the full parse of only the cells they leave.
    parsed_all = mapped.lazy().select(*fast_exprs(ledger)).collect()
    found = []
    for column in ledger.columns:
        settled = parsed_all.get_column(f"__settled_{column.name}")
        if settled.all():  # the common case, and far cheaper than looking for positions
            continue
        unsettled = settled.not_().arg_true()
        value, bad = full_parse(mapped, unsettled, column, ledger)
        parsed_all = parsed_all.with_columns(merged(parsed_all.get_column(column.name), unsettled, value))
        found.append(bad)
    rows_all = parsed_all.select(
        "_row", *[canonical_case_no(pl.col(c)) if c == "case_no" else pl.col(c) for c in names]
    )
    raw_all = parsed_all.select("_row", *[pl.col(f"__raw_{c}").alias(c) for c in names])
    # Each sheet's rows are consecutive, in sheet order: a zero-copy slice is its part.
    starts = np.cumsum([0] + [data.height for _, data, _, _ in prepared]).tolist()
    headers = pl.DataFrame(
        [(i, c.name, s.match.headers.get(c.name, c.header)) for i, s in enumerate(sheets) for c in ledger.columns],
        schema={"_unit": pl.Int32, "column": pl.Utf8, "header": pl.Utf8}, orient="row",
    )
    problem_parts = split_by_unit(cell_problems(found, headers)) if found else {}
    out = []
    for i, sheet in enumerate(sheets):
        body, data, zero, skipped = prepared[i]
        problems = problem_parts.get(i, EMPTY_PROBLEMS)
        marks = sheet_marks(sheet)
        if marks is not None or layouts[i].spans or layouts[i].merges:
            problems = layout_problems(sheet, layouts[i], marks, data, problems)
        if body is not None:  # only a sheet with a 合计 row can have its total wrong
            problems = pl.concat([problems, total_problems(body, sheet.match, ledger, sheet.year, marks,
                                                           dict(sheet.above))], how="vertical")
        if layouts[i].hidden.height:
            skipped = pl.concat([layouts[i].hidden, skipped], how="vertical").sort("_row")
        labels = header_labels(sheet.grid, sheet.match, sheet.header_rows)
        personal = {**duplicate_personal(sheet),
                    **{sheet.match.columns[c.name]: c for c in ledger.columns
                       if c.personal and c.name in sheet.match.columns}}
        mapped = set(sheet.match.columns.values())
        cells = [masked_cell(c, personal.get(c), None if c in mapped else label,
                             clear_grid_column(sheet, personal.get(c)), ledger).alias(label)
                 for c, label in labels.items()]
        start, height = starts[i], starts[i + 1] - starts[i]
        out.append(ParsedSheet(rows_all.slice(start, height), raw_all.slice(start, height), data, cells,
                               problems, data.height + skipped.height, zero, dict(sheet.match.headers),
                               skipped))
    return out


def duplicate_personal(sheet: SheetToParse) -> dict[str, Column]:
    """Grid columns headed like a personal ledger column but not read (a hidden or later twin)."""
    lookup = header_lookup(sheet.ledger)
    read = set(sheet.match.columns.values())
    found: dict[str, Column] = {}
    for row in sheet.header_rows:
        for j, cell in enumerate(row):
            name = lookup.get(normalise_header(str(cell))) if cell is not None else None
            if name is not None and f"c{j}" not in read and (column := sheet.ledger.column(name)).personal:
                found[f"c{j}"] = column
    return found


@lru_cache(maxsize=64)
def fast_exprs(ledger: Ledger) -> tuple[pl.Expr, ...]:
    """The fast parse of every column of a ledger, with its shown text and which cells it settles."""
    exprs = [pl.col("_row"), pl.col("_unit")]
    for column in ledger.columns:
        fast = fast_cell(pl.col(column.name), column, scale=scale_of(column))
        exprs += [fast.value.alias(column.name), shown_text(column, ledger).alias(f"__raw_{column.name}"),
                  fast.settled.alias(f"__settled_{column.name}")]
    return tuple(exprs)


def clear_grid_column(sheet: SheetToParse, column: Column | None) -> str | None:
    """The grid column of a personal column's `clear_when` column (当事人类型), if the sheet has it."""
    if column is None or column.clear_when is None:
        return None
    return sheet.match.columns.get(column.clear_when[0])


@lru_cache(maxsize=256)
def masked_cell(grid_column: str, column: Column | None, extra_header: str | None = None,
                clear_grid: str | None = None, ledger: Ledger | None = None) -> pl.Expr:
    """A cell of the grid, masked for quarantine: by its template column, else by its header and content.

    A personal column is kept in clear on the rows where its `clear_when` holds, read from
    the grid column `clear_grid` (a company party: public in every table, quarantine too).
    """
    if column is not None and column.personal:
        clear = None
        if clear_grid is not None and ledger is not None:
            clear = reads_clear(ledger, column, pl.col(clear_grid))
        return masked_text(pl.col(grid_column), column, clear)
    # A column the template does not have may still hold IDs, phones or names (来电号码,
    # 身份证号（备查）, 来电人): its header tells names; IDs and phones are found anywhere.
    return mask_by_kind(pl.col(grid_column), personal_kind_of_header(extra_header))


def scale_of(column: Column) -> pl.Expr | float:
    """The header's unit factor of a money column, per row of a batch."""
    return pl.col(f"_scale_{column.name}") if column.type == "money" else 1.0


def shown_text(column: Column, ledger: Ledger | None = None) -> pl.Expr:
    """What a clerk or analyst sees of a cell's raw text: masked like the warehouse.

    With the ledger, a column's `clear_when` is read from its other column's raw text, so a
    company party's problem shows its name as `cases` does.
    """
    raw = pl.col(column.name)
    if not column.personal:
        return raw
    clear = reads_clear(ledger, column, pl.col(column.clear_when[0])) if ledger and column.clear_when else None
    return masked_text(raw, column, clear)


def full_parse(mapped: pl.DataFrame, rows: pl.Series, column: Column,
               ledger: Ledger | None = None) -> tuple[pl.Series, pl.DataFrame]:
    """Parse one column's cells at the given positions fully: their values, and their problems."""
    name = column.name
    needed = ["_row", "_unit", "_year", name] + ([f"_scale_{name}"] if column.type == "money" else [])
    if ledger is not None and column.personal and column.clear_when:  # what decides its mask
        needed.append(column.clear_when[0])
    cell = parse_cell(pl.col(name), column, year=pl.col("_year"), scale=scale_of(column))
    # One lazy select so that the value, rule and reason of a cell share their work.
    parsed = (
        mapped.lazy().select(pl.col(needed).gather(rows))
        .select(pl.col("_unit"), pl.col("_row"), cell.value.alias("value"),
                shown_text(column, ledger).alias("raw_value"), cell.rule.alias("rule"),
                cell.reason.alias("reason"))
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


def sheet_marks(sheet: SheetToParse) -> pl.DataFrame | None:
    """The sheet's marked cells below its header, with the grid column they are in (None: none)."""
    marks = sheet.layout.marks if sheet.layout is not None else None
    if marks is None or marks.height == 0:
        return None
    return marks.with_columns(pl.format("c{}", pl.col("col")).alias("grid_column"))


def layout_problems(sheet: SheetToParse, layout: Layout, marks: pl.DataFrame | None, data: pl.DataFrame,
                    problems: pl.DataFrame) -> pl.DataFrame:
    """Put the problems of marked cells and of counts merged over rows in place of the parse's own.

    A marked cell (an Excel error, a formula without its result, a number that lost digits)
    or a count merged over rows is never read as blank: its problem replaces the ordinary
    one of its cell (必填项为空, 不是数字…). A blank cell covered by a merge names the merge.
    """
    by_grid = {g: name for name, g in sheet.match.columns.items()}
    rows = set(data["_row"].to_list())
    found = []
    if marks is not None:
        marked = marks.select("_row", "grid_column", "kind", "shown", "detail").rows()
        at = {(r, g): (k, t, d) for r, g, k, t, d in marked}
        for m in layout.merges:  # a marked cell merged down shows its error in every row it spans
            if (m.first_row, f"c{m.first_col}") in at:
                marked += [(r, f"c{m.first_col}", *at[(m.first_row, f"c{m.first_col}")])
                           for r in range(m.first_row + 1, m.last_row + 1)]
        for row, grid_column, kind, shown, detail in marked:
            name = by_grid.get(grid_column)
            if name is None or row not in rows or kind not in MARK_RULES:
                continue  # an ignored column, or a row that is not data (hidden, a footer)
            rule, reason = MARK_RULES[kind]
            found.append((row, name, shown or "", rule, reason.format(shown=shown or "", detail=detail or "")))
    for row, grid_column, ref, value in layout.spans:
        name = by_grid.get(grid_column)
        if name is None or row not in rows:
            continue
        header = sheet.match.headers[name]
        count = ref_rows(ref)
        found.append((row, name, value, "merged_cells",
                      f"「{header}」在合并单元格 {ref} 中，跨 {count} 行的数量无法分到各行，请取消合并并逐行填写"))
    if found:
        extra = pl.DataFrame(found, schema={"_row": pl.Int32, "column": pl.Utf8, "raw_value": pl.Utf8,
                                            "rule": pl.Utf8, "reason": pl.Utf8}, orient="row")
        extra = extra.with_columns(
            pl.col("column").replace_strict(sheet.match.headers, return_dtype=pl.Utf8).alias("header"),
        ).unique(["_row", "column"], keep="first", maintain_order=True)
        personal = [c for c in sheet.ledger.columns if c.personal and c.name in set(extra["column"])]
        for column in personal:  # what Excel shows of a personal cell is masked like the rest
            # (1.2E+17 shows six digits at most: masking would only garble it)
            extra = extra.with_columns(pl.when((pl.col("column") == column.name)
                                               & ~pl.col("raw_value").str.contains(r"^[0-9](?:\.[0-9]+)?E\+[0-9]+$"))
                                       .then(masked_text(pl.col("raw_value"), column))
                                       .otherwise(pl.col("raw_value")).alias("raw_value"))
        problems = problems.join(extra.select("_row", "column"), on=["_row", "column"], how="anti",
                                 maintain_order="left")
        problems = pl.concat([problems, problem_frame(extra, severity="error")], how="vertical")
    if layout.merges and problems.height:
        problems = named_merges(problems, layout.merges, sheet.match.columns)
    return problems.sort("_row", maintain_order=True)


def named_merges(problems: pl.DataFrame, merges: tuple[MergedRange, ...], columns: dict[str, str]) -> pl.DataFrame:
    """Add the merged range to the message of a blank required cell that a merge covers."""
    messages = []
    for row, column, rule, message in problems.select("_row", "column", "rule", "message").iter_rows():
        grid = columns.get(column)
        if rule == REQUIRED_RULE and grid is not None:
            col = int(grid[1:])
            for m in merges:
                inside = m.first_row <= row <= m.last_row and m.first_col <= col <= m.last_col
                if inside and (row, col) != (m.first_row, m.first_col):
                    top_left = m.ref.split(":")[0]
                    message += f"（该格在合并单元格 {m.ref} 中，合并单元格的内容只属于左上角的 {top_left}，请取消合并并逐格填写）"
                    break
        messages.append(message)
    return problems.with_columns(pl.Series("message", messages, dtype=pl.Utf8))


def ref_rows(ref: str) -> int:
    """How many rows a range like B3:B5 spans."""
    first, _, last = ref.partition(":")
    a, b = (int(re.sub(r"\D", "", part) or 0) for part in (first, last or first))
    return abs(b - a) + 1


def total_problems(body: pl.DataFrame, match: HeaderMatch, ledger: Ledger, year: int,
                   marks: pl.DataFrame | None = None, above_body: dict[str, float] | None = None
                   ) -> pl.DataFrame:
    """Warn where a 合计 row's number differs from the sum of the data rows above it.

    `above_body`: per ledger column, the sum over the data rows of the parts above this body
    (a sheet parsed in parts), added to those above the row in this body.
    """
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
        marked = set() if marks is None else set(marks.filter(pl.col("grid_column") == source)["_row"].to_list())
        for row, raw, total in at_total.iter_rows():  # one per 合计 row, never per data row
            if total is None or raw is None or row in marked:  # a marked total is no figure to check
                continue
            above = (parsed.filter(pl.col("_row") < row)["v"].sum() or 0) + (above_body or {}).get(column.name, 0)
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
