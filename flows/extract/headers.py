"""Find a ledger's header row in a grid and map its cells to the ledger's columns."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace

import polars as pl

from flows.contract.ledgers import Ledger
from flows.extract.grid import MARKS_SCHEMA, Grid, empty_marks
from flows.textnorm import header_unit, normalise_header

SEARCH_ROWS = 30  # a header further down than this is not a header
ROW_NUMBER_HEADERS = {"序号", "编号", "No", "No.", "NO"}
SCALES = {"万元": 10_000.0, "千元": 1_000.0, "元": 1.0}


@dataclass(frozen=True)
class HeaderMatch:
    """Where a sheet's header is and which grid column holds which ledger column."""

    first_data_index: int  # grid index of the first row below the header
    header_row: int  # the (lower) header row as the spreadsheet numbers it
    columns: dict[str, str]  # ledger column name -> grid column (c0, c1, …)
    headers: dict[str, str]  # ledger column name -> header text as the file writes it
    scales: dict[str, float] = field(default_factory=dict)  # money columns in 万元
    ignored: tuple[str, ...] = ()  # 序号 and unknown headers, as written
    row_number_column: str | None = None


def header_scale(unit: str | None) -> float:
    """The scale of a money header's unit: `万元`, and as forms write it, `单位：万元`, `人民币万元`."""
    if unit is None:
        return 1.0
    return SCALES.get(unit.removeprefix("单位:").removeprefix("人民币"), 1.0)


def header_lookup(ledger: Ledger) -> dict[str, str]:
    """Map every normalised header and alias of a ledger to its column name."""
    lookup: dict[str, str] = {}
    for column in ledger.columns:
        for text in (column.header, *column.header_aliases):
            lookup.setdefault(normalise_header(text), column.name)
    return lookup


def known_cells(row: list[str | None], lookup: dict[str, str]) -> dict[int, str]:
    """Positions in a row whose cell names a ledger column."""
    out = {}
    for j, cell in enumerate(row):
        if cell is not None and (name := lookup.get(normalise_header(str(cell)))):
            out[j] = name
    return out


def find_header(rows: list[list[str | None]], row_numbers: list[int], ledger: Ledger,
                hidden: frozenset[int] = frozenset()) -> HeaderMatch | None:
    """Return the first row (or pair of rows) that names every required column, or None.

    `hidden` holds the grid positions of hidden columns: one never wins over a visible
    column of the same name.
    """
    lookup = header_lookup(ledger)
    required = {c.name for c in ledger.required}
    limit = min(len(rows), SEARCH_ROWS)
    for r in range(limit):
        upper = known_cells(rows[r], lookup)
        lower_row = rows[r + 1] if r + 1 < len(rows) else []
        lower = known_cells(lower_row, lookup)
        if required <= set(upper.values()):
            # A second header row below holds the group's sub-headers (海报 under 宣传品发放)
            # only when every non-empty cell in it is a header, or stands under a blank cell of
            # the upper row (a sub-header the template does not know, 其他 under the group's
            # merged label): read as data, that row would leave the group's columns unread.
            filled = {j for j, c in enumerate(lower_row) if c is not None and str(c).strip()}
            gains = {j for j in lower if j not in upper and lower[j] not in upper.values()}
            under_blank = {j for j in filled if j >= len(rows[r]) or not str(rows[r][j] or "").strip()}
            if gains and filled <= set(lower) | row_number_cells(lower_row) | under_blank:
                return match(rows, row_numbers, r, r + 1, upper, lower, hidden)
            return match(rows, row_numbers, r, None, upper, {}, hidden)
        combined = {**upper, **lower}
        if lower and upper and required <= set(combined.values()):
            return match(rows, row_numbers, r, r + 1, upper, lower, hidden)
    return None


def row_number_cells(row: list[str | None]) -> set[int]:
    return {j for j, c in enumerate(row) if c is not None and normalise_header(str(c)) in ROW_NUMBER_HEADERS}


def match(rows, row_numbers, upper_i: int, lower_i: int | None, upper: dict, lower: dict,
          hidden: frozenset[int] = frozenset()) -> HeaderMatch:
    """Build the mapping from one header row, or two with the lower row taking precedence."""
    merged: dict[int, tuple[str, str]] = {}  # grid position -> (column name, header as written)
    for j, name in upper.items():
        merged[j] = (name, str(rows[upper_i][j]).strip())
    for j, name in lower.items():
        merged[j] = (name, str(rows[lower_i][j]).strip())
    columns: dict[str, str] = {}
    headers: dict[str, str] = {}
    scales: dict[str, float] = {}
    ignored: list[str] = []
    # Visible columns first: a column hidden to print never wins over a visible one.
    for j in sorted(merged, key=lambda j: (j in hidden, j)):
        name, written = merged[j]
        if name in columns:
            if j in hidden:
                ignored.append(f"{written}（隐藏列，与可见列「{headers[name]}」重复，未读取）")
            else:
                ignored.append(f"{written}（与「{headers[name]}」重复）")
            continue
        columns[name] = f"c{j}"
        headers[name] = written
        scale = header_scale(header_unit(written))
        if scale != 1.0:
            scales[name] = scale
    header_rows = [upper_i] if lower_i is None else [upper_i, lower_i]
    row_number_column = None
    for i in header_rows:
        for j, cell in enumerate(rows[i]):
            text = "" if cell is None else str(cell).strip()
            if not text or j in merged:
                continue
            if normalise_header(text) in ROW_NUMBER_HEADERS:
                row_number_column = row_number_column or f"c{j}"
            elif i == upper_i and lower_i is not None and _has_below(rows, lower_i, j):
                continue  # a group label over sub-headers
            ignored.append(text)
    last = header_rows[-1]
    return HeaderMatch(
        first_data_index=last + 1,
        header_row=row_numbers[last],
        columns=columns,
        headers=headers,
        scales=scales,
        ignored=tuple(dict.fromkeys(ignored)),
        row_number_column=row_number_column,
    )


def _has_below(rows, lower_i: int, j: int) -> bool:
    """Whether the lower header row has a cell under position j (a group label has)."""
    row = rows[lower_i]
    return j < len(row) and row[j] is not None and bool(str(row[j]).strip())


def missing_header_advice(rows: list[list[str | None]], row_numbers: list[int], ledger: Ledger) -> str:
    """Say why no header row was found: the closest header row, what it lacks and what it may mean.

    Only a row that names at least two template columns is quoted: any other row may be a
    data row holding personal data.
    """
    lookup = header_lookup(ledger)
    required = {c.name for c in ledger.required}
    scanned = min(len(rows), SEARCH_ROWS)
    best, best_score = None, 0
    for r in range(scanned):
        known = set(known_cells(rows[r], lookup).values())
        score = len(required & known) * 100 + len(known)  # required columns first, then any
        if len(known) >= 2 and score > best_score:
            best, best_score = r, score
    if best is None:
        return (f"；前 {scanned} 行中没有像表头的行（表头行至少要有两个单元格是模板的列名），"
                "请在数据上方加上模板的表头行后重新提交")
    row = rows[best]
    known = known_cells(row, lookup)
    cells = [str(c).strip() for c in row if c is not None and str(c).strip()]
    missing = [c for c in ledger.required if c.name not in known.values()]
    unknown = [str(c).strip() for j, c in enumerate(row)
               if j not in known and c is not None and str(c).strip()
               and normalise_header(str(c)) not in ROW_NUMBER_HEADERS]
    said = f"；最接近表头的是第{row_numbers[best]}行：{'、'.join(cells[:12])}"
    said += f"；缺少必填列{''.join(f'「{c.header}」' for c in missing)}"
    guesses = []
    for column in missing:
        guess = likely_header(column.header, column.header_aliases, unknown)
        if guess is not None:
            guesses.append(f"表头中的「{guess}」是否就是「{column.header}」？")
    if guesses:
        return said + "；" + "".join(guesses) + "请改为模板表头后重新提交"
    return said + "，请按模板补上这些列后重新提交"


NUMERIC_TYPES = ("int", "money", "number")


def unread_amount_column(match: HeaderMatch, ledger: Ledger) -> str | None:
    """Advice when an unknown header most likely names a count or amount column the file lacks.

    Such a column (`罚款数额（元）` for `罚款金额（元）`, `横幅数` for `悬挂横幅`) is ignored, and the
    ledger's column it means takes its default: every fine 0, every banner count 0, with nothing
    said but the ignored header. A column the file has under its own header is never asked about.
    """
    unknown = [h for h in match.ignored if not h.endswith(("重复）", "未读取）"))]
    if not unknown:
        return None
    guesses = []
    for column in ledger.columns:
        if column.name in match.columns or column.type not in NUMERIC_TYPES:
            continue
        guess = likely_header(column.header, column.header_aliases, unknown)
        if guess is not None:
            guesses.append(f"表头中的「{guess}」是否就是「{column.header}」？")
            unknown.remove(guess)
    if not guesses:
        return None
    return ("".join(guesses) + "模板的这一列不在表中，按原样载入会把该列全部当作未填（取默认值），"
            "请改为模板表头后重新提交")


def likely_header(header: str, aliases: tuple[str, ...], cells: list[str]) -> str | None:
    """The cell most like a template header or its aliases (difflib, normalised), if alike enough."""
    best, best_ratio = None, 0.0
    names = [normalise_header(t) for t in (header, *aliases)]
    for cell in cells:
        text = normalise_header(cell)
        ratio = max(difflib.SequenceMatcher(None, text, name).ratio() for name in names)
        if ratio > best_ratio:
            best, best_ratio = cell, ratio
    return best if best_ratio >= 0.5 else None


# Types whose parts under one header merged over several columns read as one value: names
# (`张三` | `李四`: two officers, as enforcement forms give each a cell) and text, side by side.
JOINED_TYPES = {"names": "、", "text": " "}


def merged_header_cells(grid: Grid, match: HeaderMatch, ledger: Ledger) -> Grid:
    """Read the columns a merged header cell covers as part of its field.

    A header cell merged across columns (`执法人员` over F1:G1) names every column under it,
    though only its first holds the text: a value in a covered column belongs to the field, and
    read alone the first column would lose it unseen. Names and text are joined into the field's
    value; for any other type a row with a value in a covered column cannot say which is the
    field's, and its field is marked (`merged_header`), so that the row goes back with both values.
    """
    by_grid = {g: name for name, g in match.columns.items()}
    types = {c.name: c.type for c in ledger.columns}
    frame, found = grid.frame, []
    top = match.first_data_index
    for m in grid.merges:
        anchor = f"c{m.first_col}"
        name = by_grid.get(anchor)
        if name is None or m.last_col == m.first_col or top >= frame.height or m.first_row > frame.height:
            continue
        # The merge is the header cell itself (a title merged over the table is not): it holds
        # the row the field's header was found in, the lower header row or the one above it.
        lower_text = (frame[anchor][match.header_row - 1] or "").strip() if match.header_row <= frame.height else ""
        at = match.header_row if lower_text == match.headers[name] else match.header_row - 1
        if not m.first_row <= at <= m.last_row:
            continue
        # Only columns with nothing of their own in the header row: a sub-header under a group
        # label (海报 under 宣传品发放) is a column of its own, named or ignored.
        lower = frame.row(top - 1, named=True)
        covered = [f"c{c}" for c in range(m.first_col + 1, m.last_col + 1)
                   if f"c{c}" in frame.columns and f"c{c}" not in by_grid and not (lower[f"c{c}"] or "").strip()]
        if not covered:
            continue
        parts = [pl.when(pl.col(c).str.strip_chars() != "").then(pl.col(c).str.strip_chars())
                 for c in (anchor, *covered)]
        in_body = pl.int_range(pl.len()) >= top
        extra = pl.any_horizontal([pl.col(c).str.strip_chars().fill_null("") != "" for c in covered]) & in_body
        if not frame.select(extra.any()).item():
            continue
        joined = pl.concat_str(parts, separator=JOINED_TYPES.get(types[name], " | "), ignore_nulls=True)
        if types[name] in JOINED_TYPES:
            frame = frame.with_columns(pl.when(extra).then(joined).otherwise(pl.col(anchor)).alias(anchor))
        else:
            rows = frame.filter(extra).select("_row", joined.alias("shown"))
            found += [(row, m.first_col, "merged_header", shown, m.ref) for row, shown in rows.rows()]
    if frame is grid.frame and not found:
        return grid
    marks = grid.marks if grid.marks is not None else empty_marks()
    if found:
        new = pl.DataFrame(found, schema=MARKS_SCHEMA, orient="row")
        marks = pl.concat([marks.join(new.select("_row", "col"), on=["_row", "col"], how="anti"), new]).sort("_row", "col")
    return replace(grid, frame=frame, marks=marks)
