"""What a file holds: its ledger, period and units (a file, or a yearly workbook's month sheets), each unit's header found."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from flows.contract.filenames import (
    month_from_sheet,
    period_from_name,
    revision_from_name,
    snapshot_date_from_name,
    year_from_name,
)
from flows.contract.ledgers import LEDGERS, Ledger, ledger_for_folder
from flows.errors import Rejected
from flows.extract import readers
from flows.extract.cells import serials_from_1904
from flows.extract.headers import (
    HeaderMatch,
    find_header,
    merged_header_cells,
    missing_header_advice,
    unread_amount_column,
)
from flows.extract.inbox import (
    SourceFile,
)

if TYPE_CHECKING:  # a reader process plans files and never parses: it need not import the parser (and DuckDB)
    from flows.extract.parse import ParsedSheet, SheetToParse

EMPTY_GRID = pl.DataFrame(schema={"_row": pl.Int32})


HEADER_SCAN_ROWS = 32


@dataclass(frozen=True)
class Unit:
    """What becomes one file version: a file, or one month's sheet of a yearly workbook."""

    source: SourceFile
    ledger: Ledger
    scope: str
    period: str
    period_start: date
    year: int
    sheet: str | None
    grid: readers.Grid
    revision: int


@dataclass(frozen=True)
class UnitContext:
    """What a row check may know about the sheet it checks."""

    ledger: Ledger
    path: str
    sheet: str | None
    period: str
    period_start: date
    year: int


@dataclass(frozen=True)
class Located:
    """A unit whose header has been found."""

    unit: Unit
    match: HeaderMatch
    header_rows: list[list[str | None]]


@dataclass(frozen=True)
class Prepared:
    """A unit read and parsed, waiting for its checks and its load (or one part of a unit's rows)."""

    unit: Unit
    context: UnitContext
    match: HeaderMatch
    parsed: ParsedSheet
    content_sha256: str
    part: Part | None = None  # set when the unit is parsed, checked and loaded in parts


@dataclass(eq=False)
class Slicing:
    """A unit whose rows are parsed, checked and loaded in parts (`flows.extract.parse.part_bounds`).

    Its parts become one file version, as the whole unit would: what they hand on to each
    other is kept here. The first part to load decides the verdict (unchanged when its cells
    are those of the loaded version); the last writes the version with the totals of all.
    """

    located: Located | None  # the unit with its grid, let go once its last part is parsed
    sheet: SheetToParse | None
    bounds: tuple[tuple[int, int], ...]
    context: UnitContext
    digest: str  # content_sha256 of the whole grid
    parsed_parts: int = 0
    above: tuple[tuple[str, float], ...] = ()  # the numbers a later 合计 row is checked with
    # the load's: None until the first part loads, then loaded, unchanged or rejected
    verdict: str | None = None
    version_id: int | None = None
    current: tuple[int, str, str] | None = None  # the version it replaces, read at the first part
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0
    warnings: int = 0
    zero_report: bool = True
    flushed: bool = False  # some of its rows were written already
    # The keys seen in the parts checked so far: key, _first_row, n (rows), counted (rows
    # the suites' tally counted as duplicates); see `flows.run.stages.duplicates_across_parts`.
    keys: pl.DataFrame | None = None

    def __post_init__(self) -> None:
        # The unit without its grid: what its parts carry (the grid is `located`'s, until the last part).
        unit = self.located.unit
        self.unit: Unit = replace(unit, grid=readers.Grid(unit.sheet, EMPTY_GRID))

    @property
    def done(self) -> bool:
        """Whether every part is parsed, or none needs to be (its verdict needs no more rows)."""
        return self.parsed_parts == len(self.bounds) or self.verdict in ("unchanged", "rejected")


@dataclass(frozen=True)
class Part:
    """Which part of a `Slicing` a Prepared holds."""

    slicing: Slicing
    number: int

    @property
    def first(self) -> bool:
        return self.number == 0

    @property
    def last(self) -> bool:
        return self.number == len(self.slicing.bounds) - 1


def parse_next_part(slicing: Slicing) -> Prepared | Exception:
    """Parse the next part of a sliced unit; its grid is let go with the last one.

    An exception is what parsing the part raised: the whole unit is then to be rejected.
    """
    from flows.extract.parse import parse_sheets, part_sums

    number = slicing.parsed_parts
    sheet = replace(slicing.sheet, rows=slicing.bounds[number], above=slicing.above)
    [parsed] = parse_sheets([sheet])
    slicing.parsed_parts += 1
    unit, match = slicing.unit, slicing.located.match
    if number == len(slicing.bounds) - 1:
        slicing.located, slicing.sheet = None, None  # the grid goes with the parts that slice it
    if isinstance(parsed, Exception):
        return parsed
    slicing.above = part_sums(parsed, sheet)
    return Prepared(unit, slicing.context, match, parsed, slicing.digest, Part(slicing, number))


# A check sees every unit of the run at once (so it can batch per ledger) and returns one
# PROBLEM_SCHEMA frame per unit, in the same order.
Check = Callable[[Sequence[Prepared]], list[pl.DataFrame]]


def ledger_of(source: SourceFile) -> tuple[Ledger, str]:
    """The ledger named by the file's folder, and the scope: the folders above it."""
    parts = source.rel.split("/")
    expected = "、".join(f"{c}（{ledger.name_zh}）" for c, ledger in LEDGERS.items())
    if len(parts) < 2:
        raise Rejected(f"文件不在台账文件夹中，应放在 收件箱/<台账>/ 下，台账文件夹可用：{expected}",
                       rule="unknown_ledger")
    ledger = ledger_for_folder(parts[-2])
    if ledger is None:
        raise Rejected(f"未知的台账文件夹「{parts[-2]}」，应为以下之一：{expected}", rule="unknown_ledger")
    return ledger, "/".join(parts[:-2])


def plan(source: SourceFile) -> list[Unit | tuple[str | None, Rejected]]:
    """Split a file into the units it holds; a unit that cannot load is a (sheet, Rejected)."""
    ledger, scope = ledger_of(source)
    name = Path(source.rel).name
    stem = Path(name).stem
    revision = revision_from_name(stem)
    with source.path.open("rb") as f:
        head = f.read(8)
    kind = readers.file_format(source.path, head)

    if ledger.kind == "snapshot":
        day = snapshot_date_from_name(stem)
        year = day.year if day else year_from_name(stem)
        if year is None:
            raise Rejected(
                f"文件名中找不到日期或年份：{ledger.name_zh}是快照，文件名应带日期，"
                f"例如「{ledger.name_zh}2024-12-31.xlsx」",
                rule="no_period",
            )
        period, start = (day.isoformat(), day) if day else (str(year), date(year, 1, 1))
        grid = first_sheet(source, kind, ledger)
        return [Unit(source, ledger, scope, period, start, year, grid.sheet, grid, revision)]

    ym = period_from_name(stem)
    if ym is not None:
        year, month = ym
        grid = first_sheet(source, kind, ledger)
        return [Unit(source, ledger, scope, f"{year}-{month:02d}", date(year, month, 1), year,
                     grid.sheet, grid, revision)]
    year = year_from_name(stem)
    if year is None or kind == "csv":
        raise Rejected(
            "文件名中找不到所属月份：请在文件名中写明月份，例如「2024-03」「2024年3月」「202403」；"
            "年度工作簿（每月一张工作表）的文件名应带年份，例如「2024年执法检查台账.xlsx」",
            rule="no_period",
        )
    return yearly_units(source, ledger, scope, year, revision)


def first_sheet(source: SourceFile, kind: str, ledger: Ledger) -> readers.Grid:
    """The visible sheet that has the ledger's header row and data rows (a CSV has one sheet).

    One such sheet is the file. Several visible sheets with the header and data (one per
    中队, or last month's sheet left before this month's) are refused: loading one would lose
    the others unseen. A sheet with the header but no data (an empty template copy) gives way
    to the one with data; when no visible sheet has data, the first with the header is a zero
    report, unless a hidden sheet holds the header and data (then the file is refused).
    """
    if kind == "csv":
        grid = readers.csv_grid(readers.read_bytes(source.path))
        return replace(grid, header=(ledger, require_header(grid, ledger)))
    reader = readers.open_workbook(source.path)
    first_failure: Rejected | None = None
    found: list[readers.Grid] = []  # visible sheets with the header
    hidden: list[readers.Sheet] = []
    for sheet in readers.sheets(reader, source.path):
        if not sheet.visible:
            hidden.append(sheet)
            continue
        try:
            grid = readers.sheet_grid(reader, sheet)
        except Rejected:
            if not found:
                raise
            continue  # a later sheet that cannot be read is not this ledger's (as before)
        if grid.frame.height == 0:
            continue
        try:
            found.append(replace(grid, header=(ledger, require_header(grid, ledger))))
        except Rejected as exc:
            first_failure = first_failure or exc
    if not found:
        raise first_failure or Rejected("工作簿中没有可见且有内容的工作表", rule="empty_file")
    if len(found) == 1 and not hidden:
        return found[0]
    with_data = [grid for grid in found if has_data_rows(grid, ledger)]
    if len(with_data) > 1:
        names = "".join(f"「{g.sheet}」" for g in with_data)
        raise Rejected(
            f"工作簿中有 {len(with_data)} 张工作表都有{ledger.name_zh}的表头和数据：{names}；"
            "一个文件只读一张工作表，其余的数据会漏掉。请把本期的数据合并到一张工作表，"
            "删除不属于本期的工作表后重新提交",
            rule="several_sheets",
        )
    if with_data:
        return with_data[0]
    if says_nothing_happened(found[0]):
        return found[0]  # a zero report said in words (本月无): a hidden sheet is an old one
    for sheet in hidden:  # the visible sheet is empty: is the month's data hidden?
        try:
            grid = readers.sheet_grid(reader, sheet)
            grid = replace(grid, header=(ledger, require_header(grid, ledger)))
        except Rejected:
            continue
        if has_data_rows(grid, ledger):
            raise Rejected(
                f"可见的工作表「{found[0].sheet}」只有表头没有数据，数据在隐藏的工作表「{sheet.name}」中；"
                "请取消隐藏或把数据移到可见的工作表后重新提交（零报告请删除该隐藏工作表）",
                rule="hidden_sheet_data",
            )
    return found[0]


# The labels of total, signature and note rows and the words of a zero report, as parse.py has
# them (held equal by a test): a reader process plans files without importing the parser.
ROW_LABELS = ("合计", "总计", "小计", "汇总", "填表人", "填报人", "审核人", "审核", "单位负责人", "负责人",
              "分管领导", "联系电话", "联系人", "填报日期", "制表", "备注:", "说明", "注:", "经办人", "统计人",
              "主要负责人", "主管领导", "领导签字", "签字", "签名", "盖章", "填报单位", "报送单位", "报送日期",
              "填报时间", "日期:")  # fmt: skip
NOTHING_HAPPENED = ("无", "本月无", "无此项")


def has_data_rows(grid: readers.Grid, ledger: Ledger) -> bool:
    """Whether a sheet has a row below its header with a value in a ledger column that is not a
    total, a signature or note, or a zero report's 无 (a bad row counts: it is the clerk's data)."""
    match: HeaderMatch = grid.header[1][0]
    mapped = sorted(set(match.columns.values()))
    body = grid.frame.slice(match.first_data_index)
    if body.height == 0 or not mapped:
        return False
    filled = pl.any_horizontal([pl.col(c).str.strip_chars().fill_null("") != "" for c in mapped])
    first = pl.coalesce([
        pl.when(pl.col(c).str.strip_chars() != "").then(pl.col(c).str.replace_all(r"\s", "").str.replace("：", ":"))
        for c in grid_columns(grid.frame)
    ]).fill_null("")  # fmt: skip
    label = first.str.contains("^(?:" + "|".join(ROW_LABELS) + ")") | first.is_in(NOTHING_HAPPENED)
    return bool(body.select((filled & ~label).any()).item())


def says_nothing_happened(grid: readers.Grid) -> bool:
    """Whether a row below the header says 无, 本月无 or 无此项 (a zero report in words)."""
    body = grid.frame.slice(grid.header[1][0].first_data_index)
    cols = grid_columns(body)
    if body.height == 0 or not cols:
        return False
    said = pl.any_horizontal([pl.col(c).str.replace_all(r"\s", "").is_in(NOTHING_HAPPENED) for c in cols])
    return bool(body.select(said.fill_null(False).any()).item())


def grid_columns(frame: pl.DataFrame) -> list[str]:
    return [c for c in frame.columns if c != "_row"]


def yearly_units(source, ledger, scope, year, revision) -> list[Unit | tuple[str | None, Rejected]]:
    """One unit per visible month sheet (1月 … 12月) of a yearly workbook."""
    reader = readers.open_workbook(source.path)
    units: list[Unit | tuple[str | None, Rejected]] = []
    for sheet in readers.sheets(reader, source.path):
        month = month_from_sheet(sheet.name or "")
        if not sheet.visible:
            continue
        if month is None:  # a notes or summary sheet; one with the ledger's rows is a month unnamed
            if (unnamed := unnamed_month(reader, sheet, ledger)) is not None:
                units.append((sheet.name, unnamed))
            continue
        grid = readers.sheet_grid(reader, sheet)
        if grid.frame.height == 0 or all_blank(grid):
            continue  # a month not yet filled in is not a submission
        try:
            grid = replace(grid, header=(ledger, require_header(grid, ledger)))
        except Rejected as exc:
            units.append((sheet.name, exc))
            continue
        units.append(Unit(source, ledger, scope, f"{year}-{month:02d}", date(year, month, 1), year,
                          sheet.name, grid, revision))
    if not units:
        raise Rejected(
            "年度工作簿中没有以月份命名且有内容的工作表（应为「1月」…「12月」或「01」…「12」）",
            rule="no_period",
        )
    return units


def unnamed_month(reader: readers.Workbook, sheet: readers.Sheet, ledger: Ledger) -> Rejected | None:
    """The rejection of a yearly workbook's sheet whose name gives no month but which holds the
    ledger's header and data (`3月台账`, `3月份(补报)`): skipped, its rows would be lost unseen."""
    try:
        grid = readers.sheet_grid(reader, sheet)
        if grid.frame.height == 0:
            return None
        grid = replace(grid, header=(ledger, require_header(grid, ledger)))
    except Rejected:
        return None  # no header of this ledger: a notes sheet, not a month
    if not has_data_rows(grid, ledger):
        return None
    return Rejected(
        f"工作表「{sheet.name}」有{ledger.name_zh}的表头和数据，但从表名看不出是哪个月；年度工作簿的每月"
        "工作表应命名为「1月」…「12月」（或「01」…「12」），请改名后重新提交",
        rule="no_period",
    )


def all_blank(grid: readers.Grid) -> bool:
    cols = [c for c in grid.frame.columns if c != "_row"]
    return grid.frame.select(pl.all_horizontal([pl.col(c).str.strip_chars().fill_null("") == "" for c in cols])).to_series().all()


def require_header(grid: readers.Grid, ledger: Ledger):
    """Find the header row or reject, naming the missing headers and the closest row seen."""
    if grid.header is not None and grid.header[0] is ledger:
        return grid.header[1]  # found when the file was planned
    rows = readers.text_rows(grid, HEADER_SCAN_ROWS)
    numbers = grid.frame["_row"].head(HEADER_SCAN_ROWS).to_list()
    found = find_header(rows, numbers, ledger, grid.hidden_columns)
    if found is not None:
        return found, rows
    required = "、".join(f"「{c.header}」" for c in ledger.required)
    where = f"工作表「{grid.sheet}」" if grid.sheet else "文件"
    if grid.sheet is None and (separator := other_separator(rows, numbers, ledger)) is not None:
        raise Rejected(
            f"文件的各列以{separator}分隔，不是逗号分隔的 CSV：在 Excel/WPS 中每行会挤在一个单元格里。"
            "请另存为「CSV UTF-8（逗号分隔）」或 Excel 工作簿（.xlsx）后重新提交",
            rule="csv_separator",
        )
    seen = missing_header_advice(rows, numbers, ledger)
    raise Rejected(f"{where}中找不到{ledger.name_zh}的表头行，必填列为 {required}{seen}", rule="no_header")


# Separators other than the comma that text exports use (tab-separated text saved as .csv,
# a semicolon where the list separator is one), and their names for the clerk.
OTHER_SEPARATORS = {"\t": "制表符（Tab）", ";": "分号（;）", "；": "分号（；）", "|": "竖线（|）"}


def other_separator(rows: list[list[str | None]], numbers: list[int], ledger: Ledger) -> str | None:
    """The name of the separator a CSV's header row is written with, when it is not the comma.

    A CSV whose lines are split by tabs or semicolons is read as one column (Excel does the same
    with a comma list separator): the header is then found only when each line is split by it.
    """
    lines = [",".join(cell for cell in row if cell is not None) for row in rows]
    for separator, name in OTHER_SEPARATORS.items():
        if not any(separator in line for line in lines):
            continue
        split = [[cell.strip() for cell in line.split(separator)] for line in lines]
        if find_header(split, numbers, ledger, frozenset()) is not None:
            return name
    return None


def content_sha256(grid: readers.Grid) -> str:
    """A hash of the cells as read, so that a re-saved file with the same cells is unchanged."""
    digest = hashlib.sha256(f"{grid.frame.shape}".encode())
    # Row hashes with fixed seeds: stable for a given polars, far cheaper than writing CSV.
    digest.update(grid.frame.hash_rows(seed=11, seed_1=23, seed_2=37, seed_3=41).to_numpy().tobytes())
    return digest.hexdigest()


def name_period(source: SourceFile, sheet: str | None = None) -> tuple[Ledger | None, str | None, date | None]:
    """The ledger, period and period start that a file's folder and name (and sheet) give."""
    ledger = safe_ledger(source)
    if ledger is None:
        return None, None, None
    stem = Path(source.rel).stem
    if ledger.kind == "snapshot":
        day = snapshot_date_from_name(stem)
        if day is not None:
            return ledger, day.isoformat(), day
        year = year_from_name(stem)
        return (ledger, str(year), date(year, 1, 1)) if year else (ledger, None, None)
    ym = period_from_name(stem)
    if ym is not None:
        return ledger, f"{ym[0]}-{ym[1]:02d}", date(ym[0], ym[1], 1)
    year = year_from_name(stem)
    if year is None:
        return ledger, None, None
    month = month_from_sheet(sheet) if sheet else None  # a month sheet of a yearly workbook
    if month is not None:
        return ledger, f"{year}-{month:02d}", date(year, month, 1)
    return ledger, str(year), date(year, 1, 1)


def scope_of(rel: str) -> str:
    return "/".join(rel.split("/")[:-2])


# What reading a file gave: the exception that stopped it, or per unit its Located, a
# (sheet, Rejected) that plan made, or a (Unit, Exception) that locate raised.
FileRead = Exception | list["Located | tuple[str | None, Rejected] | tuple[Unit, Exception]"]


def read_file(source: SourceFile) -> FileRead:
    """Plan one file and find each unit's header, touching no warehouse (safe in a thread)."""
    try:
        units = plan(source)
    except Exception as exc:  # recorded by record_read, on the run's connection
        return exc
    out: list = []
    for unit in units:
        if isinstance(unit, tuple):
            out.append(unit)
            continue
        try:
            out.append(locate(unit))
        except Exception as exc:
            out.append((unit, exc))
    return out


def safe_ledger(source: SourceFile) -> Ledger | None:
    try:
        return ledger_of(source)[0]
    except Rejected:
        return None


def with_1904_serials(grid: readers.Grid, match: HeaderMatch, ledger: Ledger) -> readers.Grid:
    """Read the date serials typed as numbers in a 1904 workbook's date columns from its epoch."""
    dates = [match.columns[c.name] for c in ledger.columns if c.type == "date" and c.name in match.columns]
    if not dates:
        return grid
    body = pl.int_range(pl.len()) >= match.first_data_index
    frame = grid.frame.with_columns(
        pl.when(body).then(serials_from_1904(pl.col(c))).otherwise(pl.col(c)).alias(c) for c in dates
    )
    return replace(grid, frame=frame)


# A whole number written with a zero fraction (`202403000123.0`): what a system that passes its
# numbers through floating point (pandas with a blank in the column) writes into a CSV.
_ZERO_FRACTION = r"^(\s*-?[0-9]+)\.0+(\s*)$"


def without_zero_fraction(grid: readers.Grid, column: str) -> readers.Grid:
    """A CSV's register key `202403000123.0` as Excel shows it, `202403000123` (Excel reads the
    cell as a number): otherwise the ticket typed without `.0` another month is a second key."""
    if not grid.frame.select(pl.col(column).str.contains(_ZERO_FRACTION).any()).item():
        return grid
    return replace(grid, frame=grid.frame.with_columns(pl.col(column).str.replace(_ZERO_FRACTION, "${1}${2}")))


def locate(unit: Unit) -> Located:
    """Find the header of one unit."""
    match, header_rows = require_header(unit.grid, unit.ledger)
    if match.ignored and (advice := unread_amount_column(match, unit.ledger)) is not None:
        raise Rejected(advice, rule="no_header")
    if unit.grid.merges:  # a header merged across columns: the columns it covers are its field's
        unit = replace(unit, grid=merged_header_cells(unit.grid, match, unit.ledger))
    if unit.grid.date1904:  # a date serial typed as a number counts from 1904 there
        unit = replace(unit, grid=with_1904_serials(unit.grid, match, unit.ledger))
    if unit.grid.sheet is None and unit.ledger.key in match.columns:  # a CSV's register key
        unit = replace(unit, grid=without_zero_fraction(unit.grid, match.columns[unit.ledger.key]))
    return Located(unit, match, header_rows[: match.first_data_index])
